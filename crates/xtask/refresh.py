"""What moto lacks for rollouts, simulated with AWS's semantics (`emulator.py` installs it).

moto 5.2.5 has no instance refresh, knows nothing of an application's health, and
forgets a deregistered target at once. AWS has all three, and trellis's rollouts are
built on them, so the test tooling adds them here:

* **Instance refresh** (StartInstanceRefresh, DescribeInstanceRefreshes,
  CancelInstanceRefresh, RollbackInstanceRefresh) with AWS's semantics: batches by the
  healthy percentages (launch first when MaxHealthyPercentage is above 100: the room
  above the capacity, at least one; otherwise the room below MinHealthyPercentage, at
  least one; the same rule as `trellis_plan::batch_size`), InstanceWarmup (falling back
  to the group's grace period), CheckpointPercentages with CheckpointDelay, SkipMatching,
  a DesiredConfiguration that becomes the group's template only on success, AutoRollback,
  BakeTime, and AlarmSpecification (an alarm in ALARM fails the refresh, then rolls it
  back). A batch of a group with ELB health checks counts only once its new instances
  are healthy in every target group of the group; one still unhealthy 300 s past its
  warmup fails the refresh. Statuses: Pending, InProgress, Baking, Successful, Failed,
  Cancelling, Cancelled, RollbackInProgress, RollbackSuccessful.
* **Target health that follows the boot script**: a registered instance whose user
  data has the line `# emulator: unhealthy` fails its health checks
  (`unhealthy`, `Target.FailedHealthChecks`); `# emulator: healthy-after 20s` is
  `initial` (`Elb.InitialHealthChecking`) for 20 s after its registration, then healthy.
* **Draining**: a deregistered target is `draining` (`Target.DeregistrationInProgress`)
  for the group's `deregistration_delay.timeout_seconds`, capped at
  `EMULATOR_DRAIN_CAP_SECONDS` (5 unless set) so that test suites that tear down many
  registrations do not wait AWS's full 300 s default each time.
* Each ASG instance reports the launch template version it was launched from (moto
  5.2.5 reports the template's default version for every instance).

Time is simulated lazily: every request to the emulator first advances the refreshes
to the present, so a refresh moves while anyone (trellis, a test) is asking about it.
"""

import os
import re
import threading
import time
import uuid

LOCK = threading.RLock()
REFRESHES = {}  # group name -> [Refresh], newest last
REGISTERED_AT = {}  # (target group arn, instance id) -> time
DEREGISTERED_AT = {}  # (target group arn, instance id) -> time
ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")


def now():
    return time.time()


def user_data_text(instance):
    data = getattr(instance, "user_data", None)
    if isinstance(data, list):
        data = data[0] if data else None
    if data is None:
        return ""
    if hasattr(data, "decode") and not isinstance(data, (bytes, str)):
        try:
            return data.decode()
        except Exception:
            return ""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    try:
        import base64

        return base64.b64decode(data).decode("utf-8", "replace")
    except Exception:
        return str(data)


def resolve_version(template, version):
    version = str(version or "$Default")
    if version == "$Latest":
        # A property in moto 5.2.5 (calling it was a TypeError that failed every group
        # launched from `$Latest`).
        return template.latest_version_number
    if version == "$Default":
        return template.default_version_number
    return int(version)


def batch_size(n, min_pct, max_pct):
    if n <= 0:
        return 0, max_pct > 100
    above = n * (max_pct - 100) // 100
    below = n - (n * min_pct + 99) // 100
    first = max_pct > 100
    size = max(1, above + below) if first else max(1, below)
    return min(size, n), first


def launch(group, count, version):
    """Launches `count` instances of the group's template at `version`."""
    saved = group.launch_template_version
    group.launch_template_version = str(version)
    before = {s.instance.id for s in group.instance_states}
    try:
        group.replace_autoscaling_group_instances(count, group.get_propagated_tags())
    finally:
        group.launch_template_version = saved
    new = [s for s in group.instance_states if s.instance.id not in before]
    for s in new:
        s.instance._trellis_lt_version = int(version)
    group.autoscaling_backend.update_attached_target_groups(group.name)
    return [s.instance.id for s in new]


def terminate(group, ids):
    ids = [i for i in ids if any(s.instance.id == i for s in group.instance_states)]
    if not ids:
        return
    elbv2 = group.autoscaling_backend.elbv2_backend
    for arn in group.target_group_arns:
        tg = elbv2.target_groups.get(arn)
        if tg is None:
            continue
        present = [{"Id": i} for i in ids if i in tg.targets]
        if present:
            tg.deregister(present)
            for t in present:
                DEREGISTERED_AT[(arn, t["Id"])] = now()
    group.instance_states = [s for s in group.instance_states if s.instance.id not in ids]
    group.ec2_backend.terminate_instances(ids)


def version_of(state):
    v = getattr(state.instance, "_trellis_lt_version", None)
    if v is not None:
        return v
    group = state.auto_scaling_group
    if group is not None and group.ec2_launch_template is not None:
        return resolve_version(group.ec2_launch_template, group.launch_template_version)
    return None


def target_health(group, instance_ids):
    """'healthy', 'unhealthy' or 'initial' across every target group of the group."""
    elbv2 = group.autoscaling_backend.elbv2_backend
    worst = "healthy"
    for arn in group.target_group_arns:
        tg = elbv2.target_groups.get(arn)
        if tg is None:
            continue
        for i in instance_ids:
            state = tg.health_for({"Id": i}, group.ec2_backend).status
            if state == "unhealthy":
                return "unhealthy"
            if state != "healthy":
                worst = "initial"
    return worst


class Refresh:
    def __init__(self, group, desired, prefs):
        self.id = str(uuid.uuid4())
        self.group = group
        self.status = "Pending"
        self.reason = ""
        self.start = now()
        self.end = None
        self.prefs = prefs
        template = group.ec2_launch_template
        self.old_version = resolve_version(template, group.launch_template_version)
        self.desired_version_text = desired.get("Version")
        # The DesiredConfiguration as it was given, which DescribeInstanceRefreshes
        # shows again (how a caller recognises the refresh it started).
        self.desired_given = dict(desired)
        self.desired = resolve_version(template, desired.get("Version")) if desired else self.old_version
        capacity = group.desired_capacity or 0
        self.total = capacity
        self.size, self.first = batch_size(capacity, prefs["min"], prefs["max"])
        self.replaced = 0
        self.batch = None  # {"new": [...], "old": [...], "at": t}
        self.launched = set()
        self.paused_until = None
        self.checkpoints_done = set()
        self.bake_until = None
        self.rollback_started = None
        warmup = prefs.get("warmup")
        if warmup is None:
            warmup = group.health_check_grace_period or 0
        self.warmup = int(warmup)

    # What AWS shows.
    def pct(self):
        if self.status == "Successful":
            return 100
        if not self.total:
            return 0
        return min(100, self.replaced * 100 // self.total)

    def left(self):
        return max(0, self.total - self.replaced)

    def to_replace_count(self):
        return len(self.to_replace())

    def to_replace(self):
        """The instances still to replace: never one this refresh launched, and with
        SkipMatching none already on the desired version."""
        states = [s for s in self.group.instance_states if s.lifecycle_state == "InService"]
        old = [s.instance.id for s in states if s.instance.id not in self.launched]
        if self.prefs["skip_matching"]:
            old = [s.instance.id for s in states if s.instance.id not in self.launched and version_of(s) != self.desired]
        return old

    def alarm_in_alarm(self):
        names = self.prefs.get("alarms") or []
        if not names:
            return None
        try:
            from moto.cloudwatch.models import cloudwatch_backends

            backend = cloudwatch_backends[self.group.account_id][self.group.region]
            for alarm in backend.get_alarms_by_alarm_names(names):
                if alarm.state_value == "ALARM":
                    return alarm.name
        except Exception:
            return None
        return None

    def fail(self, reason):
        self.reason = reason
        if self.prefs["auto_rollback"]:
            self.start_rollback(reason)
        else:
            self.status = "Failed"
            self.end = now()

    def start_rollback(self, reason):
        self.status = "RollbackInProgress"
        self.reason = reason
        self.rollback_started = now()

    def finish_rollback(self):
        # Every instance of the new version (and any still in a batch) is replaced by
        # one of the old version, launched first.
        group = self.group
        new = [s.instance.id for s in group.instance_states if version_of(s) == self.desired]
        if self.batch:
            new = sorted(set(new) | set(self.batch["new"]))
            self.batch = None
        keep = len([s for s in group.instance_states if s.instance.id not in new])
        wanted = max(0, (group.desired_capacity or 0) - keep)
        if wanted:
            launch(group, wanted, self.old_version)
        terminate(group, new)
        self.status = "RollbackSuccessful"
        self.end = now()

    def advance(self):
        t = now()
        if self.status == "Pending":
            self.status = "InProgress"
        if self.status == "Cancelling":
            if self.batch:
                terminate(self.group, self.batch["new"])
                self.batch = None
            self.status = "Cancelled"
            self.end = t
            return
        if self.status == "RollbackInProgress":
            if t - self.rollback_started >= 1:
                self.finish_rollback()
            return
        if self.status not in ("InProgress", "Baking"):
            return
        alarm = self.alarm_in_alarm()
        if alarm:
            self.fail(f"alarm {alarm} is in ALARM")
            return
        if self.status == "Baking":
            if t >= self.bake_until:
                self.succeed()
            return
        if self.paused_until is not None:
            if t < self.paused_until:
                return
            self.paused_until = None
            self.reason = ""
        if self.batch is None:
            remaining = self.to_replace()
            if not remaining:
                if self.prefs.get("bake_time"):
                    self.status = "Baking"
                    self.bake_until = t + self.prefs["bake_time"]
                    self.reason = f"Baking for {self.prefs['bake_time']} s"
                else:
                    self.succeed()
                return
            for point in self.prefs.get("checkpoints") or []:
                if point not in self.checkpoints_done and self.pct() >= point:
                    self.checkpoints_done.add(point)
                    delay = self.prefs.get("checkpoint_delay") or 3600
                    self.paused_until = t + delay
                    self.reason = f"Checkpoint {point}% reached; waiting {delay} s"
                    return
            n = min(self.size or 1, len(remaining))
            old = remaining[:n]
            if not self.first:
                terminate(self.group, old)
            new = launch(self.group, n, self.desired)
            self.launched.update(new)
            self.batch = {"new": new, "old": old, "at": t}
            self.reason = f"Replacing {n} instance(s)"
            return
        # A batch counts once its instances are warm and, with ELB health checks, healthy.
        if t - self.batch["at"] < self.warmup:
            return
        if self.group.health_check_type == "ELB" and self.group.target_group_arns:
            health = target_health(self.group, self.batch["new"])
            if health != "healthy":
                if t - self.batch["at"] > self.warmup + 300:
                    self.fail("instances failed their target groups' health checks")
                return
        if self.first:
            terminate(self.group, self.batch["old"])
        self.replaced += len(self.batch["old"])
        self.batch = None
        self.reason = ""

    def succeed(self):
        group = self.group
        group.launch_template_version = self.desired_version_text or str(self.desired)
        group.provided_launch_template_version = self.desired_version_text or str(self.desired)
        self.status = "Successful"
        self.replaced = self.total
        self.reason = ""
        self.end = now()


def advance_all():
    with LOCK:
        for refreshes in REFRESHES.values():
            for r in refreshes:
                if r.status in ACTIVE:
                    try:
                        r.advance()
                    except Exception as e:  # a group deleted under it
                        r.status = "Failed"
                        r.reason = f"emulator: {e}"
                        r.end = now()


def params(response, prefix):
    """The flattened query parameters under `prefix.` as a {rest: value} dict."""
    out = {}
    for key, values in response.querystring.items():
        if key.startswith(prefix + "."):
            out[key[len(prefix) + 1:]] = values[0]
    return out


def members(flat, name):
    items = [(int(m.group(1)), v) for k, v in flat.items() if (m := re.fullmatch(re.escape(name) + r"\.member\.(\d+)", k))]
    return [v for _, v in sorted(items)]


def error(code, message):
    from moto.core.exceptions import ServiceException

    class E(ServiceException):
        pass

    E.code = code
    E.message = message
    return E()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def install():
    from moto.autoscaling.models import InstanceState
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import BaseResponse
    from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup

    # Time moves on every request.
    original_call_action = BaseResponse.call_action

    def call_action(self):
        advance_all()
        with LOCK:
            return original_call_action(self)

    BaseResponse.call_action = call_action

    # An instance's own template version.
    def launch_template(self):
        group = self.auto_scaling_group
        if group is None or group.ec2_launch_template is None:
            return None
        return {
            "LaunchTemplateId": group.ec2_launch_template.id,
            "LaunchTemplateName": group.ec2_launch_template.name,
            "Version": str(version_of(self)),
        }

    InstanceState.launch_template = property(launch_template)

    from moto.autoscaling.models import FakeAutoScalingGroup

    original_replace = FakeAutoScalingGroup.replace_autoscaling_group_instances

    def replace_autoscaling_group_instances(self, count_needed, propagated_tags):
        before = {s.instance.id for s in self.instance_states}
        original_replace(self, count_needed, propagated_tags)
        if self.ec2_launch_template is not None:
            v = resolve_version(self.ec2_launch_template, self.launch_template_version)
            for s in self.instance_states:
                if s.instance.id not in before and getattr(s.instance, "_trellis_lt_version", None) is None:
                    s.instance._trellis_lt_version = v

    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_autoscaling_group_instances

    # Target health over time.
    original_register = FakeTargetGroup.register
    original_deregister = FakeTargetGroup.deregister
    original_health_for = FakeTargetGroup.health_for

    def register(self, targets):
        original_register(self, targets)
        for t in targets:
            REGISTERED_AT.setdefault((self.arn, t["Id"]), now())
            DEREGISTERED_AT.pop((self.arn, t["Id"]), None)

    def deregister(self, targets):
        original_deregister(self, targets)
        for t in targets:
            DEREGISTERED_AT[(self.arn, t["Id"])] = now()
            REGISTERED_AT.pop((self.arn, t["Id"]), None)

    def drain_seconds(tg):
        try:
            delay = int(tg.attributes.get("deregistration_delay.timeout_seconds", 300))
        except (TypeError, ValueError):
            delay = 300
        return min(delay, int(os.environ.get("EMULATOR_DRAIN_CAP_SECONDS", "5")))

    def health_for(self, target, ec2_backend):
        tid = target["Id"]
        port = target.get("Port", self.port)
        gone = DEREGISTERED_AT.get((self.arn, tid))
        if tid not in self.targets and gone is not None and now() - gone < drain_seconds(self):
            return FakeHealthStatus(
                tid, port, self.health_check_port, "draining", "Target.DeregistrationInProgress",
                "Target deregistration is in progress",
            )
        status = original_health_for(self, target, ec2_backend)
        if tid in self.targets and tid.startswith("i-") and status.status == "healthy":
            instance = ec2_backend.get_instance_by_id(tid)
            script = user_data_text(instance) if instance else ""
            if re.search(r"^# emulator: unhealthy\s*$", script, re.M):
                return FakeHealthStatus(
                    tid, port, self.health_check_port, "unhealthy", "Target.FailedHealthChecks",
                    "Health checks failed",
                )
            m = re.search(r"^# emulator: healthy-after (\d+)s\s*$", script, re.M)
            if m:
                since = REGISTERED_AT.get((self.arn, tid), now())
                if now() - since < int(m.group(1)):
                    return FakeHealthStatus(
                        tid, port, self.health_check_port, "initial", "Elb.InitialHealthChecking",
                        "Initial health checks in progress",
                    )
        return status

    FakeTargetGroup.register = register
    FakeTargetGroup.deregister = deregister
    FakeTargetGroup.health_for = health_for

    # The instance refresh API.
    def group_of(self):
        name = self._get_param("AutoScalingGroupName")
        groups = self.autoscaling_backend.autoscaling_groups
        if name not in groups:
            raise error("ValidationError", f"AutoScalingGroup name not found - {name}")
        return name, groups[name]

    def start_instance_refresh(self):
        name, group = group_of(self)
        for r in REFRESHES.get(name, []):
            if r.status in ACTIVE:
                raise error("InstanceRefreshInProgress", f"An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
        p = params(self, "Preferences")
        desired = params(self, "DesiredConfiguration")
        desired = (
            {
                k: v
                for k, v in (
                    ("LaunchTemplateId", desired.get("LaunchTemplate.LaunchTemplateId")),
                    ("LaunchTemplateName", desired.get("LaunchTemplate.LaunchTemplateName")),
                    ("Version", desired.get("LaunchTemplate.Version")),
                )
                if v is not None
            }
            if desired
            else {}
        )
        as_int = lambda k, d=None: int(p[k]) if k in p else d
        as_bool = lambda k, d: p[k].lower() == "true" if k in p else d
        prefs = {
            "min": as_int("MinHealthyPercentage", 90),
            "max": as_int("MaxHealthyPercentage", 100),
            "warmup": as_int("InstanceWarmup"),
            "checkpoints": [int(v) for v in members(p, "CheckpointPercentages")],
            "checkpoint_delay": as_int("CheckpointDelay"),
            "skip_matching": as_bool("SkipMatching", False),
            "auto_rollback": as_bool("AutoRollback", False),
            "bake_time": as_int("BakeTime", 0),
            "alarms": members(p, "AlarmSpecification.Alarms"),
        }
        if prefs["auto_rollback"] and not desired:
            raise error("ValidationError", "AutoRollback requires a DesiredConfiguration with a launch template")
        r = Refresh(group, desired, prefs)
        REFRESHES.setdefault(name, []).append(r)
        return f"""<StartInstanceRefreshResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
<StartInstanceRefreshResult><InstanceRefreshId>{r.id}</InstanceRefreshId></StartInstanceRefreshResult>
<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></StartInstanceRefreshResponse>"""

    def describe_instance_refreshes(self):
        name, _ = group_of(self)
        ids = members({k: v[0] for k, v in self.querystring.items()}, "InstanceRefreshIds")
        rows = []
        for r in reversed(REFRESHES.get(name, [])):
            if ids and r.id not in ids:
                continue
            end = f"<EndTime>{iso(r.end)}</EndTime>" if r.end else ""
            reason = r.reason.replace("&", "&amp;").replace("<", "&lt;")
            given = "".join(f"<{k}>{v}</{k}>" for k, v in r.desired_given.items())
            desired = f"<DesiredConfiguration><LaunchTemplate>{given}</LaunchTemplate></DesiredConfiguration>" if given else ""
            rows.append(f"""<member><InstanceRefreshId>{r.id}</InstanceRefreshId><AutoScalingGroupName>{name}</AutoScalingGroupName>
<Status>{r.status}</Status><StatusReason>{reason}</StatusReason><StartTime>{iso(r.start)}</StartTime>{end}
<PercentageComplete>{r.pct()}</PercentageComplete><InstancesToUpdate>{r.left() if r.status in ACTIVE else 0}</InstancesToUpdate>{desired}</member>""")
        return f"""<DescribeInstanceRefreshesResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
<DescribeInstanceRefreshesResult><InstanceRefreshes>{''.join(rows)}</InstanceRefreshes></DescribeInstanceRefreshesResult>
<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></DescribeInstanceRefreshesResponse>"""

    def active_of(name):
        for r in REFRESHES.get(name, []):
            if r.status in ACTIVE:
                return r
        raise error("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group " + name)

    def cancel_instance_refresh(self):
        name, _ = group_of(self)
        r = active_of(name)
        if r.status == "RollbackInProgress":
            raise error("IrreversibleInstanceRefresh", "The rollback of this Instance Refresh cannot be cancelled")
        r.status = "Cancelling"
        return f"""<CancelInstanceRefreshResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
<CancelInstanceRefreshResult><InstanceRefreshId>{r.id}</InstanceRefreshId></CancelInstanceRefreshResult>
<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></CancelInstanceRefreshResponse>"""

    def rollback_instance_refresh(self):
        name, _ = group_of(self)
        r = active_of(name)
        if r.status == "RollbackInProgress":
            raise error("IrreversibleInstanceRefresh", "This Instance Refresh is already rolling back")
        r.start_rollback("Rollback requested")
        return f"""<RollbackInstanceRefreshResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">
<RollbackInstanceRefreshResult><InstanceRefreshId>{r.id}</InstanceRefreshId></RollbackInstanceRefreshResult>
<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></RollbackInstanceRefreshResponse>"""

    AutoScalingResponse.start_instance_refresh = start_instance_refresh
    AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes
    AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh
    AutoScalingResponse.rollback_instance_refresh = rollback_instance_refresh
