"""The fault layer of trellis's test tooling: an HTTP proxy in front of moto that
behaves like AWS under stress, which moto never does.

    python faults.py --listen PORT --upstream http://127.0.0.1:MOTO_PORT [--profile mixed] [--seed N]

Every request is forwarded to moto unchanged, except that, at the rates of the profile:

- throttle      the request is refused before it runs, with the service's real code and
                status (EC2: 503 RequestLimitExceeded; ELB, Auto Scaling, RDS: 400 Throttling)
- error_before  the request is refused before it runs with a 500 InternalError
- error_after   the request runs, and its answer is replaced by a 500 InternalError
- reset_after   the request runs, and the connection is reset instead of answering
- garbled       the request runs, and its answer is cut short or has its bytes scrambled

and, for EC2, eventual consistency: for `--consistency` seconds after an object is
created, every other call that names its id sees it missing, as AWS documents: a
describe is answered as if the id did not exist (empty through a filter, `*.NotFound`
when asked by id), any other call gets the kind's `Invalid…ID.NotFound` error.

IAM is eventually consistent too, and EC2 lags behind it: for as long after a role or
an instance profile is made, IAM calls naming it answer `NoSuchEntity`, and for three
times as long (or `--profile-lag` seconds) EC2 calls that give an instance the profile
answer `InvalidParameterValue` ("Invalid IAM Instance Profile name"), as AWS does for a
profile made seconds ago.

With `--latency SECONDS`, every AWS call (not S3's, not moto's own) waits that long
before it is forwarded, as calls to a distant region do: operations take long enough
for what a person watches while they wait to be seen.

With `--rate-limits`, AWS's published request buckets (per account and region: EC2's
describe, mutating, security-group-rule and RunInstances buckets, ELBv2's and RDS's)
are enforced as AWS does: each is a token bucket of its size, refilled at its rate; a
call that finds a bucket it draws from empty is throttled (and takes no token), whatever
the profile. The calls each bucket let through are counted in the stats, for the bound
an apply cannot beat.

With `--swallow ACTION` (EC2 actions that answer `<return>true</return>`, such as
ModifySubnetAttribute), every such request is answered with success and never reaches
moto: the cloud accepting a change it then does not make. trellis's read-back must
catch it; a test starts a layer of its own for this (`tests/support`).

With `--lose ACTION` (any service's action; `ACTION:N` for the first N, else the first
one), the request runs and its connection is reset instead of answering: a reply lost
on the way back, so the caller cannot know that its call took effect. A test starts a
layer of its own for this (`tests/e2e_rollout.rs`: a rollout whose start and whose new
launch template version lose their replies).

S3 (the remote state) and moto's own `/moto-api` are passed through untouched. The
counts of what was injected, and of the calls made by action, are served at
`GET /_faults/stats` (JSON), and
`POST /_faults/reset` sets them back to zero.

Written for trellis (it is no copy of any other tool); standard library only, so it
runs in the same virtualenv as moto.
"""

import argparse
import http.client
import http.server
import json
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse

PROFILES = {
    # No faults: a plain pass-through (useful to measure the proxy itself).
    "none": {"throttle": 0, "error_before": 0, "error_after": 0, "reset_after": 0, "garbled": 0, "consistency": 0},
    # About 10 % of calls faulty, of each kind, and 1.5 s of eventual consistency.
    "mixed": {
        "throttle": 0.03,
        "error_before": 0.02,
        "error_after": 0.02,
        "reset_after": 0.015,
        "garbled": 0.015,
        "consistency": 1.5,
    },
}

# The id prefix of an EC2 object, and the code AWS answers for an id it does not know.
NOT_FOUND = {
    "vpc": "InvalidVpcID.NotFound",
    "subnet": "InvalidSubnetID.NotFound",
    "igw": "InvalidInternetGatewayID.NotFound",
    "rtb": "InvalidRouteTableID.NotFound",
    "acl": "InvalidNetworkAclID.NotFound",
    "sg": "InvalidGroup.NotFound",
    "lt": "InvalidLaunchTemplateId.NotFound",
    "i": "InvalidInstanceID.NotFound",
    "eipalloc": "InvalidAllocationID.NotFound",
    "nat": "NatGatewayNotFound",
}
# The element that carries the new object's id in each create's answer (its answer
# names other, older ids too: a subnet's VPC).
CREATED = {
    "CreateVpc": "vpcId",
    "CreateSubnet": "subnetId",
    "CreateInternetGateway": "internetGatewayId",
    "CreateRouteTable": "routeTableId",
    "CreateNetworkAcl": "networkAclId",
    "CreateSecurityGroup": "groupId",
    "CreateLaunchTemplate": "launchTemplateId",
    "AllocateAddress": "allocationId",
    "CreateNatGateway": "natGatewayId",
    "RunInstances": "instanceId",
}
# AWS's request buckets (size, refill per second), as docs/reliability.md and the
# reference give them; `--rate-limits` enforces them.
BUCKETS = {
    "ec2-describe": (100, 20),
    "ec2-mutate": (50, 5),
    "ec2-security-group-rules": (50, 5),
    "ec2-run-instances": (5, 2),
    "elb-account": (40, 10),
    "elb-describe": (40, 10),
    "elb-mutate": (20, 3),
    "elb-create-load-balancer": (10, 0.2),
    "rds": (300, 12),
}
SG_RULES = {
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
}


def buckets_of(service, action):
    """The buckets a call draws a token from."""
    if service == "ec2":
        if action.startswith("Describe"):
            return ["ec2-describe"]
        if action in SG_RULES:
            return ["ec2-security-group-rules"]
        if action == "RunInstances":
            return ["ec2-run-instances"]
        return ["ec2-mutate"]
    if service == "elasticloadbalancing":
        if action.startswith("Describe"):
            return ["elb-describe", "elb-account"]
        if action == "CreateLoadBalancer":
            return ["elb-create-load-balancer", "elb-mutate", "elb-account"]
        return ["elb-mutate", "elb-account"]
    if service == "rds":
        return ["rds"]
    return []


SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/")
# The IAM creates whose names other calls may not see yet, and the field naming it.
IAM_CREATED = {"CreateRole": "RoleName", "CreateInstanceProfile": "InstanceProfileName"}


def error_body(service, code, message):
    """An error document in the service's own format (EC2's, or the query protocol's)."""
    if service == "ec2":
        return (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error></Errors><RequestID>fault-layer</RequestID></Response>"
        ).encode()
    kind = "Receiver" if code in ("InternalFailure", "InternalError", "ServiceUnavailable") else "Sender"
    return (
        f'<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>'
        f"<RequestId>fault-layer</RequestId></ErrorResponse>"
    ).encode()


class Faults:
    def __init__(self, profile, seed):
        self.rates = dict(PROFILES[profile])
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.young = {}  # id -> when the call that made it answered
        self.profile_lag = None  # seconds EC2 refuses a new profile; 3 x consistency if None
        self.buckets = None  # name -> [tokens, last refill], with --rate-limits
        self.lose = {}  # action -> how many more of its replies are lost, with --lose
        self.reset_stats()

    def take_lost(self, action):
        """Whether this request of `action` loses its reply (counting it down)."""
        with self.lock:
            left = self.lose.get(action, 0)
            if left <= 0:
                return False
            self.lose[action] = left - 1
            return True

    def enforce_rate_limits(self):
        now = time.monotonic()
        self.buckets = {name: [float(size), now] for name, (size, _) in BUCKETS.items()}

    def admit(self, service, action):
        """Whether AWS's buckets let this call through (taking a token from each)."""
        if self.buckets is None:
            return True
        names = buckets_of(service, action)
        now = time.monotonic()
        with self.lock:
            for name in names:
                size, rate = BUCKETS[name]
                bucket = self.buckets[name]
                bucket[0] = min(size, bucket[0] + (now - bucket[1]) * rate)
                bucket[1] = now
            if any(self.buckets[name][0] < 1 for name in names):
                return False
            for name in names:
                self.buckets[name][0] -= 1
                per = self.stats["by_bucket"]
                per[name] = per.get(name, 0) + 1
        return True

    def reset_stats(self):
        with self.lock:
            self.stats = {
                "requests": 0,
                "throttle": 0,
                "error_before": 0,
                "error_after": 0,
                "reset_after": 0,
                "garbled": 0,
                "not_yet_visible": 0,
                "swallowed": 0,
                "lost": 0,
                "by_action": {},
                "by_bucket": {},
                # Every request that reached the layer, by action (faulty or not).
                "calls": {},
            }

    def called(self, action):
        with self.lock:
            self.stats["calls"][action] = self.stats["calls"].get(action, 0) + 1

    def count(self, what, action):
        with self.lock:
            self.stats[what] += 1
            per = self.stats["by_action"].setdefault(action, {})
            per[what] = per.get(what, 0) + 1

    def draw(self):
        """Which random fault (if any) this request gets."""
        with self.lock:
            self.stats["requests"] += 1
            x = self.random.random()
        for name in ("throttle", "error_before", "error_after", "reset_after", "garbled"):
            x -= self.rates[name]
            if x < 0:
                return name
        return None

    def remember(self, body, action):
        element = CREATED.get(action)
        if self.rates["consistency"] <= 0 or not element:
            return
        ids = re.findall(rb"<" + element.encode() + rb">([a-z]+-[0-9a-f]+)</", body)
        if action != "RunInstances":
            ids = ids[:1]
        now = time.monotonic()
        with self.lock:
            for ident in ids:
                self.young[ident.decode()] = now

    def remember_iam(self, form, action):
        field = IAM_CREATED.get(action)
        if (self.rates["consistency"] <= 0 and not self.profile_lag) or not field or not form.get(field):
            return
        with self.lock:
            self.young["iam:" + form[field][0]] = time.monotonic()

    def young_iam(self, name, ec2=False):
        """Whether IAM made `name` too recently for other calls to see it (for EC2, the
        longer profile lag: EC2 learns of a profile later than IAM's own calls)."""
        window = self.rates["consistency"]
        if ec2:
            window = self.profile_lag if self.profile_lag is not None else 3 * window
        if window <= 0 or not name:
            return False
        with self.lock:
            born = self.young.get("iam:" + name)
            return born is not None and time.monotonic() - born <= window

    def invisible(self, text):
        """The ids this request names that AWS would not show yet."""
        if self.rates["consistency"] <= 0:
            return []
        now = time.monotonic()
        out = []
        with self.lock:
            for ident, born in list(self.young.items()):
                if ident.startswith("iam:"):
                    continue  # young_iam's, which outlive the EC2 window
                if now - born > self.rates["consistency"]:
                    del self.young[ident]
                elif re.search(re.escape(ident) + r"(?![0-9a-f])", text):
                    out.append(ident)
        return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    faults = None
    upstream = None
    swallow = frozenset()
    latency = 0.0

    def log_message(self, fmt, *args):  # quiet: the tests read their own output
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, status, body, headers=None):
        self.send_response(status)
        for k, v in (headers or []):
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        if not headers:
            self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def forward(self, body):
        conn = http.client.HTTPConnection(self.upstream[0], self.upstream[1], timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding",)}
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        result = (resp.status, resp.getheaders(), data)
        conn.close()
        return result

    def reset(self):
        # SO_LINGER with a zero timeout: close() sends RST, as a dropped connection does.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass

    def handle_any(self):
        body = self.read_body()
        if self.path.startswith("/_faults/"):
            if self.path == "/_faults/reset":
                self.faults.reset_stats()
            return self.answer(200, json.dumps(self.faults.stats).encode(), [("Content-Type", "application/json")])
        match = SERVICE.search(self.headers.get("Authorization", ""))
        service = match.group(1) if match else ""
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
        action = (form.get("Action") or [""])[0]
        if service in ("", "s3") or not action or self.path.startswith("/moto-api"):
            status, headers, data = self.forward(body)
            return self.answer(status, data, headers)

        self.faults.called(action)
        if self.latency:
            time.sleep(self.latency)
        if service == "ec2" and action in self.swallow:
            return self.swallowed(action)
        if self.faults.take_lost(action):
            status, headers, data = self.forward(body)
            self.faults.count("lost", action)
            return self.reset()

        if service == "iam" and action not in IAM_CREATED:
            for field, what in (("RoleName", "role"), ("InstanceProfileName", "instance profile")):
                name = (form.get(field) or [""])[0]
                if self.faults.young_iam(name):
                    self.faults.count("not_yet_visible", action)
                    message = f"The {what} with name {name} cannot be found."
                    return self.answer(404, error_body("iam", "NoSuchEntity", message))
        profile = (form.get("IamInstanceProfile.Name") or [""])[0]
        if service == "ec2" and self.faults.young_iam(profile, ec2=True):
            self.faults.count("not_yet_visible", action)
            message = f"Value ({profile}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
            return self.answer(400, error_body("ec2", "InvalidParameterValue", message))

        renamed = {}
        if service == "ec2":
            text = urllib.parse.unquote_plus(body.decode("utf-8", "replace"))
            hidden = self.faults.invisible(text)
            if hidden:
                self.faults.count("not_yet_visible", action)
                if action.startswith("Describe"):
                    # Asked about an id AWS does not show yet: moto answers for an id of
                    # the same shape that does not exist.
                    # Its answer names the real id again (AWS's message names what was asked).
                    for ident in hidden:
                        prefix, tail = ident.split("-", 1)
                        renamed[f"{prefix}-{'0' * len(tail)}".encode()] = ident.encode()
                        body = body.replace(ident.encode(), f"{prefix}-{'0' * len(tail)}".encode())
                else:
                    ident = hidden[0]
                    code = NOT_FOUND[ident.split("-", 1)[0]]
                    return self.answer(400, error_body("ec2", code, f"The ID '{ident}' does not exist"))

        fault = self.faults.draw()
        if not self.faults.admit(service, action):
            fault = "throttle"
        if fault == "throttle":
            self.faults.count(fault, action)
            if service == "ec2":
                return self.answer(503, error_body("ec2", "RequestLimitExceeded", "Request limit exceeded."))
            return self.answer(400, error_body(service, "Throttling", "Rate exceeded"))
        if fault == "error_before":
            self.faults.count(fault, action)
            code = "InternalError" if service == "ec2" else "InternalFailure"
            return self.answer(500, error_body(service, code, "We encountered an internal error. Please try again."))

        status, headers, data = self.forward(body)
        for bogus, real in renamed.items():
            data = data.replace(bogus, real)
        if 200 <= status < 300:
            self.faults.remember(data, action)
            if service == "iam":
                self.faults.remember_iam(form, action)
        if fault == "error_after":
            self.faults.count(fault, action)
            code = "InternalError" if service == "ec2" else "InternalFailure"
            return self.answer(500, error_body(service, code, "We encountered an internal error. Please try again."))
        if fault == "reset_after":
            self.faults.count(fault, action)
            return self.reset()
        if fault == "garbled" and 200 <= status < 300 and data:
            self.faults.count(fault, action)
            if self.faults.random.random() < 0.5:
                # Cut short: the length promised, half the bytes sent, then the connection ends.
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                return self.reset()
            scrambled = bytes(b ^ 0x5A for b in data)
            return self.answer(status, scrambled, headers)
        return self.answer(status, data, headers)

    def swallowed(self, action):
        self.faults.count("swallowed", action)
        body = (
            f'<{action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            f"<requestId>swallowed-by-the-fault-layer</requestId><return>true</return></{action}Response>"
        )
        return self.answer(200, body.encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that went away (a test kills trellis mid-call) is not an error here.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--profile", default="mixed", choices=sorted(PROFILES))
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--consistency", type=float, default=None, help="seconds a new EC2 id stays invisible")
    p.add_argument("--swallow", action="append", default=[], help="EC2 action answered true, never run")
    p.add_argument("--latency", type=float, default=0.0, help="seconds every AWS call waits before it is forwarded")
    p.add_argument("--profile-lag", type=float, default=None, help="seconds EC2 refuses a new instance profile")
    p.add_argument("--rate-limits", action="store_true", help="enforce AWS's request buckets")
    p.add_argument("--lose", action="append", default=[], help="ACTION[:N]: run the first N, then reset")
    args = p.parse_args(argv)
    Handler.swallow = frozenset(args.swallow)
    Handler.latency = args.latency
    up = urllib.parse.urlparse(args.upstream)
    Handler.upstream = (up.hostname, up.port)
    Handler.faults = Faults(args.profile, args.seed)
    if args.consistency is not None:
        Handler.faults.rates["consistency"] = args.consistency
    if args.profile_lag is not None:
        Handler.faults.profile_lag = args.profile_lag
    if args.rate_limits:
        Handler.faults.enforce_rate_limits()
    for spec in args.lose:
        action, _, n = spec.partition(":")
        Handler.faults.lose[action] = int(n or 1)
    server = Server(("127.0.0.1", args.listen), Handler)
    swallowing = f", swallowing {', '.join(sorted(args.swallow))}" if args.swallow else ""
    print(f"fault layer on 127.0.0.1:{args.listen} -> {args.upstream} ({args.profile}{swallowing})", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
