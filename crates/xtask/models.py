"""AWS's own API models, held against every request the emulator is sent (`emulator.py`
installs it). Not a shim of a defect: moto accepts what AWS refuses (a 1,100-character
description, an interval of 400, a value outside an enum), so a request trellis gets
wrong would pass every test here and fail on AWS. Each request is read with the
operation's model (botocore's, the one the SDKs are generated from, in the same venv)
and refused, as AWS refuses it, when it breaks:

* what the model states: required members, enums, string and list lengths, number
  ranges and patterns (Smithy's patterns are not anchored: they must match somewhere);
* what the model states only in words (`WORDS` below: RDS's storage ranges by engine
  and storage type, its user name and password rules, CloudWatch's periods, EC2's
  characters for group and rule descriptions), from AWS's API reference.

A refused request is answered 400 with `InvalidParameterValue` (EC2) or
`ValidationError` (the query services), its message starting `emulator:`, and written
to the emulator's log, so the trellis call fails and the test with it.

`MODEL_IS_WRONG` lists where a model contradicts AWS's API reference and AWS accepts
what the model refuses; each entry says which reference page.
"""

import re
import sys
from urllib.parse import unquote, urlsplit

# (service, operation, path, value): accepted although the model refuses it.
MODEL_IS_WRONG = {
    # DescribeAccountAttributes' AttributeNames enum lists `supported-platforms` and
    # `default-vpc` only; the EC2 API reference (DescribeAccountAttributes,
    # AccountAttributeName) documents `vpc-max-elastic-ips` too, which pre-flight reads.
    ("ec2", "DescribeAccountAttributes", "AttributeNames[]", "vpc-max-elastic-ips"),
}

# Characters AWS takes in an EC2 security group's description and a rule's (the EC2 API
# reference, CreateSecurityGroup and IpRange/UserIdGroupPair: "a-z, A-Z, 0-9, spaces,
# and ._-:/()#,@[]+=&;{}!$*").
EC2_DESCRIPTION = re.compile(r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*")


def _storage(params, engine):
    """RDS CreateDBInstance's AllocatedStorage range by engine and storage type (the RDS
    API reference, CreateDBInstance, AllocatedStorage)."""
    size = params.get("AllocatedStorage")
    if size is None or engine not in ("mysql", "mariadb", "postgres"):
        return []
    kind = (params.get("StorageType") or ("gp2" if not params.get("Iops") else "io1")).lower()
    low, high = {"gp2": (20, 65536), "gp3": (20, 65536), "io1": (100, 65536), "io2": (100, 65536), "standard": (5, 3072)}.get(
        kind, (20, 65536)
    )
    if not low <= int(size) <= high:
        return [f"AllocatedStorage: {size} GiB is outside {low} to {high} for {engine} on {kind}"]
    return []


def _rds_instance(params):
    out = []
    engine = (params.get("Engine") or "").lower()
    out += _storage(params, engine)
    retention = params.get("BackupRetentionPeriod")
    if retention is not None and not 0 <= int(retention) <= 35:
        out.append(f"BackupRetentionPeriod: {retention} is outside 0 to 35")
    user = params.get("MasterUsername")
    if user is not None:
        most = 16 if engine in ("mysql", "mariadb") else 63
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", user) or len(user) > most:
            out.append(f"MasterUsername: `{user}` must be 1 to {most} letters, digits or underscores, a letter first")
    password = params.get("MasterUserPassword")
    if password is not None:
        most = 41 if engine in ("mysql", "mariadb") else 128
        bad = [c for c in password if c in '/"@ ' or not 32 < ord(c) < 127]
        if bad or not 8 <= len(password) <= most:
            out.append(f"MasterUserPassword: 8 to {most} printable ASCII characters, none of / \" @ or space")
    return out


def _alarm(params):
    period = params.get("Period")
    if period is not None and int(period) not in (10, 20, 30) and int(period) % 60 != 0:
        return [f"Period: {period} must be 10, 20, 30 or a multiple of 60"]
    return []


def _ec2_descriptions(values, path):
    return [f"{path}: `{v}` has characters AWS does not take" for v in values if not EC2_DESCRIPTION.fullmatch(v)]


def _rule_descriptions(params):
    values = []
    for perm in params.get("IpPermissions") or []:
        for key in ("IpRanges", "Ipv6Ranges", "UserIdGroupPairs", "PrefixListIds"):
            values += [r["Description"] for r in perm.get(key) or [] if r.get("Description") is not None]
    return _ec2_descriptions(values, "IpPermissions[].Description")


# What the models state only in words: (service, operation) -> check(params).
WORDS = {
    ("rds", "CreateDBInstance"): _rds_instance,
    ("rds", "ModifyDBInstance"): lambda p: _rds_instance({k: v for k, v in p.items() if k != "AllocatedStorage"}),
    ("cloudwatch", "PutMetricAlarm"): _alarm,
    ("ec2", "CreateSecurityGroup"): lambda p: _ec2_descriptions([p.get("Description") or ""], "Description"),
    ("ec2", "AuthorizeSecurityGroupIngress"): _rule_descriptions,
    ("ec2", "AuthorizeSecurityGroupEgress"): _rule_descriptions,
    ("ec2", "UpdateSecurityGroupRuleDescriptionsIngress"): _rule_descriptions,
    ("ec2", "UpdateSecurityGroupRuleDescriptionsEgress"): _rule_descriptions,
}

_PATTERNS = {}


def _pattern(text):
    if text not in _PATTERNS:
        try:
            _PATTERNS[text] = re.compile(text, re.DOTALL)
        except re.error:
            # A Java-only construct (surrogate ranges): the model's pattern is not held.
            _PATTERNS[text] = None
    return _PATTERNS[text]


def problems(service, operation, shape, value, path=""):
    """What `value` breaks of `shape` (the model's), each as `path: why`."""
    out = []
    if value is None:
        return out
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return out
        for name in shape.required_members:
            if value.get(name) is None:
                out.append(f"{path}{name}: required")
        for name, member in shape.members.items():
            if name in value:
                out += problems(service, operation, member, value[name], f"{path}{name}.")
        return out
    where = path.rstrip(".")
    if kind == "list":
        if isinstance(value, list):
            if "min" in meta and len(value) < meta["min"]:
                out.append(f"{where}: {len(value)} items, fewer than {meta['min']}")
            if "max" in meta and len(value) > meta["max"]:
                out.append(f"{where}: {len(value)} items, more than {meta['max']}")
            for item in value:
                out += problems(service, operation, shape.member, item, f"{where}[].")
        return out
    if kind == "map":
        if isinstance(value, dict):
            for k, v in value.items():
                out += problems(service, operation, shape.key, k, f"{where}.key.")
                out += problems(service, operation, shape.value, v, f"{where}.{k}.")
        return out
    if kind == "string":
        text = str(value)
        if (service, operation, where, text) in MODEL_IS_WRONG:
            return out
        enum = getattr(shape, "enum", None) or []
        if enum and text not in enum:
            out.append(f"{where}: `{text}` is not one of {', '.join(enum)}")
        if "min" in meta and len(text) < meta["min"]:
            out.append(f"{where}: {len(text)} characters, fewer than {meta['min']}")
        if "max" in meta and len(text) > meta["max"]:
            out.append(f"{where}: {len(text)} characters, more than {meta['max']}")
        pattern = meta.get("pattern")
        if pattern and _pattern(pattern) is not None and not _pattern(pattern).search(text):
            out.append(f"{where}: `{text[:80]}` does not match the pattern {pattern}")
        return out
    if kind in ("integer", "long", "float", "double"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            return out
        if "min" in meta and number < meta["min"]:
            out.append(f"{where}: {value} is below {meta['min']}")
        if "max" in meta and number > meta["max"]:
            out.append(f"{where}: {value} is above {meta['max']}")
    return out


def check(service, operation, shape, params):
    """Everything the request breaks: the model's rules, then those stated in words."""
    out = problems(service, operation, shape, params)
    words = WORDS.get((service, operation))
    if words is not None:
        out += words(params)
    return out


def uri_params(op, path):
    """The members a REST service (Route53) sends in the path, by the operation's URI
    template: `/2013-04-01/tags/{ResourceType}/{ResourceId}` read against the path."""
    # Clients differ on a trailing slash (`/rrset/` is sent as `/rrset`).
    template = urlsplit(op.http.get("requestUri", "/")).path.rstrip("/")
    path = path.rstrip("/")
    pattern = ""
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            name = piece.strip("{}")
            greedy = name.endswith("+")
            pattern += f"(?P<{name.rstrip('+')}>{'.+' if greedy else '[^/]+'})"
        else:
            pattern += re.escape(piece)
    found = re.fullmatch(pattern, path)
    return {k: unquote(v) for k, v in found.groupdict().items()} if found else {}


def install():
    """Checks each request before moto's handler runs, and refuses a bad one."""
    from werkzeug.datastructures import MultiDict

    from moto.core.exceptions import ServiceException
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.request import determine_request_protocol
    from moto.core.responses import BaseResponse
    from moto.core.utils import camelcase_to_underscores, get_service_model

    original = BaseResponse.call_action

    class Refused(ServiceException):
        pass

    def call_action(self):
        service = getattr(self, "boto3_service_name", None) or getattr(self, "service_name", "")
        operation = self._get_action()
        found = []
        if service not in ("s3", "sts", "") and operation:
            try:
                model = get_service_model(service)
                op = model.operation_model(operation)
                protocol = determine_request_protocol(model, self.headers.get("Content-Type", ""))
                values = MultiDict([(k, v) for k, vs in self.querystring.items() for v in vs])
                body = self.body if isinstance(self.body, bytes) else (self.body or "").encode()
                request = {"method": "POST", "values": values, "headers": self.headers, "body": body}
                path = urlsplit(self.path).path
                parsed = PROTOCOL_PARSERS[protocol](op).parse(
                    {**request, "url_path": path, "url_params": uri_params(op, path)}
                )
                found = check(service, operation, op.input_shape, parsed)
            except Exception as e:  # the checker's own failure is said, never hidden as a pass
                print(f"emulator: could not check {service} {operation} against its model: {e!r}", file=sys.stderr)
        if found:
            message = f"emulator: AWS's model of {operation} refuses this request: " + "; ".join(found)
            print(message, file=sys.stderr, flush=True)
            error = Refused("InvalidParameterValue" if service == "ec2" else "ValidationError", message)

            def refuse():
                raise error

            setattr(self, camelcase_to_underscores(operation), refuse)
        return original(self)

    BaseResponse.call_action = call_action
