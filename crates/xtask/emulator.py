"""Starts the pinned moto server with the test tooling's shims for moto's defects.

    python emulator.py -H 127.0.0.1 -p PORT

Each shim names the defect it covers; drop it when a moto release fixes it. trellis
itself never works around the emulator.
"""

import os
import sys

# Not a defect: moto knows AWS's managed policies (`arn:aws:iam::aws:policy/...`, which
# roles attach) only when asked to load them.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.ec2.responses.launch_templates import LaunchTemplates
from moto.ec2.utils import parse_user_data
from moto.server import main


def shim_launch_template_version_user_data():
    """moto 5.2.5: CreateLaunchTemplate decodes `LaunchTemplateData.UserData` with
    `parse_user_data`, but CreateLaunchTemplateVersion stores the raw string, so an auto
    scaling group that launches from such a version fails an assertion in moto. Decode
    it the same way after the version is made."""
    original = LaunchTemplates.create_launch_template_version

    def create_launch_template_version(self):
        result = original(self)
        raw = self._get_param("LaunchTemplateData.UserData")
        if raw is not None:
            name = self._get_param("LaunchTemplateName")
            ident = self._get_param("LaunchTemplateId")
            if ident:
                template = self.ec2_backend.get_launch_template(ident)
            else:
                template = self.ec2_backend.get_launch_template_by_name(name)
            template.versions[-1].data["UserData"] = parse_user_data(raw)
        return result

    LaunchTemplates.create_launch_template_version = create_launch_template_version


def shim_replace_network_acl_association_unknown_id():
    """moto 5.2.5: ReplaceNetworkAclAssociation with an association id no ACL has (the
    first attempt of a resent call already replaced it) raises StopIteration inside
    moto, which answers HTTP 500 with no error document. AWS answers 400
    `InvalidAssociationID.NotFound`; so does the shim."""
    from moto.ec2.exceptions import InvalidAssociationIdError
    from moto.ec2.models.network_acls import NetworkAclBackend

    original = NetworkAclBackend.replace_network_acl_association

    def replace_network_acl_association(self, association_id, network_acl_id):
        if not any(association_id in acl._associations for acl in self.network_acls.values()):
            raise InvalidAssociationIdError(association_id)
        return original(self, association_id, network_acl_id)

    NetworkAclBackend.replace_network_acl_association = replace_network_acl_association


def shim_modify_db_subnet_group_drops_the_group():
    """moto 5.2.5: ModifyDBSubnetGroup pops the group out of the backend's table to
    change it and never puts it back, so the group AWS just changed is gone (every read
    after it answers DBSubnetGroupNotFoundFault). AWS changes the group where it is; the
    shim puts it back under its name."""
    from moto.rds.models import RDSBackend

    original = RDSBackend.modify_db_subnet_group

    def modify_db_subnet_group(self, subnet_name, description, subnets):
        group = original(self, subnet_name, description, subnets)
        self.subnet_groups[subnet_name] = group
        return group

    RDSBackend.modify_db_subnet_group = modify_db_subnet_group


def shim_network_acl_entry_icmp():
    """moto 5.2.5: CreateNetworkAclEntry and ReplaceNetworkAclEntry read the ICMP type
    and code as `Icmp.Code` / `Icmp.Type` (the wire names), but its automated parameter
    parsing keys them by the model's `IcmpTypeCode`, so every ICMP type and code is
    dropped and DescribeNetworkAcls returns none. Read them from where the parser
    puts them."""
    from moto.ec2.responses.network_acls import NetworkACLs

    def wrap(original):
        def handler(self):
            get = self._get_param

            def _get_param(key, default=None):
                if key in ("Icmp.Code", "Icmp.Type"):
                    field = key.split(".")[1]
                    value = get("IcmpTypeCode." + field, None)
                    whole = get("IcmpTypeCode", None)
                    if value is None and isinstance(whole, dict):
                        value = whole.get(field)
                    return default if value is None else value
                return get(key, default)

            self._get_param = _get_param
            try:
                return original(self)
            finally:
                del self._get_param

        return handler

    for name in ("create_network_acl_entry", "replace_network_acl_entry"):
        setattr(NetworkACLs, name, wrap(getattr(NetworkACLs, name)))


def shim_unassociated_address_instance_id():
    """moto 5.2.5: DescribeAddresses answers `InstanceId` and `NetworkInterfaceId` as
    empty strings for an address associated with nothing; AWS leaves them out. The
    model's properties give None instead, so the answer has no such element."""
    from moto.ec2.models.elastic_ip_addresses import ElasticAddress

    ElasticAddress.instance_id = property(lambda self: self.instance.id if self.instance else None)
    ElasticAddress.network_interface_id = property(lambda self: self.eni.id if self.eni else None)


def shim_deleted_nat_gateway_keeps_its_address():
    """moto 5.2.5: DeleteNatGateway marks the gateway `deleted` but leaves its Elastic IP
    associated with the gateway's network interface, and the interface in the subnet;
    AWS disassociates the address and deletes the interface. Without the shim the
    address can never be given to another gateway or released."""
    from moto.ec2.models.nat_gateways import NatGatewayBackend

    original = NatGatewayBackend.delete_nat_gateway

    def delete_nat_gateway(self, nat_gateway_id):
        before = self.nat_gateways.get(nat_gateway_id)
        # A delete sent again (its first answer lost) finds it gone already.
        first = before is not None and before.state != "deleted"
        gateway = original(self, nat_gateway_id)
        if first:
            for address in list(self.addresses):
                if address.eni is gateway._eni:
                    self.disassociate_address(association_id=address.association_id)
            self.delete_network_interface(gateway._eni.id)
        return gateway

    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway


def shim_nat_gateway_tag_filters():
    """moto 5.2.5: DescribeNatGateways applies only its id, VPC, subnet and state
    filters and ignores `tag:KEY`, so a listing by tag answers every stack's gateways;
    AWS applies it. The shim keeps the gateways whose tag has one of the values."""
    from moto.ec2.models.nat_gateways import NatGatewayBackend

    original = NatGatewayBackend.describe_nat_gateways

    def describe_nat_gateways(self, filters, nat_gateway_ids):
        found = original(self, filters, nat_gateway_ids)
        for name, values in (filters or {}).items():
            if name.startswith("tag:"):
                found = [g for g in found if g.get_filter_value(name) in values]
        return found

    NatGatewayBackend.describe_nat_gateways = describe_nat_gateways


def shim_instance_profile_path_prefix():
    """moto 5.2.5: ListInstanceProfiles ignores `PathPrefix` and answers every profile
    of the account; AWS answers those under the prefix (ListRoles already does). The
    shim keeps the profiles whose path starts with it."""
    from moto.iam.responses import IamResponse

    original = IamResponse.list_instance_profiles

    def list_instance_profiles(self):
        prefix = self._get_param("PathPrefix") or "/"
        backend = self.backend
        real = backend.get_instance_profiles
        backend.get_instance_profiles = lambda: [p for p in real() if p.path.startswith(prefix)]
        try:
            return original(self)
        finally:
            del backend.get_instance_profiles

    IamResponse.list_instance_profiles = list_instance_profiles


def shim_replaced_profile_association():
    """moto 5.2.5: ReplaceIamInstanceProfileAssociation changes the association but not
    the instance, so DescribeInstances goes on naming the old profile; AWS names the
    new one. The shim gives the instance the association's new profile."""
    from moto.ec2.models.iam_instance_profile import IamInstanceProfileAssociationBackend

    original = IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association

    def replace_iam_instance_profile_association(self, association_id, *args, **kwargs):
        association = original(self, association_id, *args, **kwargs)
        self.modify_instance_attribute(
            association.instance_id,
            "iam_instance_profile",
            {"Arn": association.iam_instance_profile.arn, "Id": association_id},
        )
        return association

    IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association = (
        replace_iam_instance_profile_association
    )


def shim_unknown_instance_profile_error():
    """moto 5.2.5: EC2 calls naming an instance profile IAM does not have answer IAM's
    `NoSuchEntity`; AWS answers EC2's `InvalidParameterValue` ("Invalid IAM Instance
    Profile name"), which is also what it says for a profile made a moment ago."""
    import moto.ec2.models.iam_instance_profile as associations
    import moto.ec2.responses.instances as instances
    from moto.ec2.exceptions import EC2ClientError
    from moto.iam.exceptions import NotFoundException

    original = instances.filter_iam_instance_profiles

    def filter_iam_instance_profiles(account_id, partition, iam_instance_profile_arn, iam_instance_profile_name):
        try:
            return original(account_id, partition, iam_instance_profile_arn, iam_instance_profile_name)
        except NotFoundException:
            if iam_instance_profile_arn:
                what = f"Value ({iam_instance_profile_arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
            else:
                what = f"Value ({iam_instance_profile_name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
            raise EC2ClientError("InvalidParameterValue", what)

    instances.filter_iam_instance_profiles = filter_iam_instance_profiles
    associations.filter_iam_instance_profiles = filter_iam_instance_profiles


def shim_remove_role_not_in_profile():
    """moto 5.2.5: RemoveRoleFromInstanceProfile for a role the profile does not hold (a
    call sent again after its answer was lost) fails inside moto with a ValueError,
    answered as a bare HTTP 500; AWS answers `NoSuchEntity`."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import IAMBackend

    original = IAMBackend.remove_role_from_instance_profile

    def remove_role_from_instance_profile(self, profile_name, role_name):
        profile = self.get_instance_profile(profile_name)
        if not any(r.name == role_name for r in profile.roles):
            raise NotFoundException(f"The role with name {role_name} cannot be found in {profile_name}.")
        return original(self, profile_name, role_name)

    IAMBackend.remove_role_from_instance_profile = remove_role_from_instance_profile


def shim_load_balancer_defaults():
    """moto 5.2.5: a load balancer made without `--scheme` has no scheme (AWS makes it
    `internet-facing`), and DescribeLoadBalancerAttributes leaves out
    `idle_timeout.timeout_seconds` until it is set (AWS answers its default, 60), and
    the HTTP routing attributes `routing.http.drop_invalid_header_fields.enabled` and
    `routing.http.preserve_host_header.enabled` (AWS answers `false` for both). The
    shim gives new load balancers these defaults."""
    from moto.elbv2.models import FakeLoadBalancer

    original = FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if not self.scheme:
            self.scheme = "internet-facing"
        self.attrs.setdefault("idle_timeout.timeout_seconds", "60")
        self.attrs.setdefault("routing.http.drop_invalid_header_fields.enabled", "false")
        self.attrs.setdefault("routing.http.preserve_host_header.enabled", "false")

    FakeLoadBalancer.__init__ = __init__


def shim_load_balancer_default_group():
    """moto 5.2.5 leaves an application load balancer made without `--security-groups`
    in no group; AWS puts it in its VPC's default security group (the WordPress sample
    relies on that, admitting traffic from the balancer's first group)."""
    from moto.elbv2.models import ELBv2Backend

    original = ELBv2Backend.create_load_balancer

    def create_load_balancer(self, *args, **kwargs):
        balancer = original(self, *args, **kwargs)
        if balancer.type == "application" and not balancer.security_groups:
            default = self.ec2_backend.get_default_security_group(balancer.vpc_id)
            if default is not None:
                balancer.security_groups = [default.id]
        return balancer

    ELBv2Backend.create_load_balancer = create_load_balancer


def shim_run_instances_profile_for_each():
    """moto 5.2.5: RunInstances with `--count 2` and an instance profile associates the
    profile with the first instance only; AWS gives it to every instance launched."""
    from moto.ec2.models.instances import InstanceBackend

    original = InstanceBackend.run_instances

    def run_instances(self, image_id, count, user_data, security_group_names, **kwargs):
        reservation = original(self, image_id, count, user_data, security_group_names, **kwargs)
        name, arn = kwargs.get("iam_instance_profile_name"), kwargs.get("iam_instance_profile_arn")
        if name or arn:
            for instance in reservation.instances[1:]:
                self.associate_iam_instance_profile(
                    instance_id=instance.id, iam_instance_profile_name=name, iam_instance_profile_arn=arn
                )
        return reservation

    InstanceBackend.run_instances = run_instances


def shim_launch_template_tags():
    """moto 5.2.5: a launch template keeps the tags it was made with: CreateTags and
    DeleteTags on it later change DescribeTags but not DescribeLaunchTemplates; AWS
    answers its tags as they are now. The shim reads them at each answer."""
    from moto.ec2.models.launch_templates import LaunchTemplate

    LaunchTemplate.tags = property(lambda self: self.get_tags(), lambda self, _value: None)


def shim_own_tags_by_index():
    """moto 5.2.5: an EC2 object's tags (TaggedEC2Resource.get_tags, behind every tag
    filter and every tag set in an answer) are found by scanning the tags of every
    object in the region with a regular expression per object (describe_tags with a
    resource-id filter, which copies the whole table first), so a describe of N tagged
    objects costs N squared: a no-op plan of 1,000 resources spent two seconds there
    (#14). AWS answers from an index; so does this shim, with the same entries (and an
    exact id, where moto's pattern also matched ids that merely start alike)."""
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def get_tags(self):
        if not self.id:
            return []
        kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(self.id), "")
        own = self.ec2_backend.tags.get(self.id, {})
        return [{"resource_id": self.id, "key": k, "value": v, "resource_type": kind} for k, v in own.items()]

    TaggedEC2Resource.get_tags = get_tags


def shim_cloudwatch_rpc_v2_cbor():
    """moto 5.2.5 speaks CloudWatch's query protocol only; AWS also serves it as Smithy
    RPC v2 CBOR (`POST /service/GraniteServiceVersion20100801/operation/NAME`), the
    protocol the current AWS SDKs use, and moto answers that path 404. The shim turns
    such a request into the query request it stands for (botocore's own CBOR parser
    and query serializer, on CloudWatch's service model), lets moto answer it, and turns
    the XML answer back into CBOR (an error as `__type` and `message`, with the
    `x-amzn-query-error` header AWS sends in query-compatible mode)."""
    import io
    import urllib.parse

    import botocore.session
    from botocore.parsers import QueryParser, RpcV2CBORParser
    from botocore.serialize import QuerySerializer, RpcV2CBORSerializer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    prefix = "/service/GraniteServiceVersion20100801/operation/"
    model = botocore.session.get_session().get_service_model("cloudwatch")

    def cbor_text(s):
        data = s.encode()
        n = len(data)
        head = bytes([0x60 | n]) if n < 24 else bytes([0x78, n]) if n < 256 else bytes([0x79]) + n.to_bytes(2, "big")
        return head + data

    def cbor_error(code, message):
        return bytes([0xA2]) + cbor_text("__type") + cbor_text("com.amazonaws.cloudwatch#" + code) + cbor_text("message") + cbor_text(message)

    original = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(prefix):
            return original(self, environ, start_response)
        op = model.operation_model(path[len(prefix):])
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        params = {}
        if body and op.input_shape is not None:
            params = RpcV2CBORParser().parse({"body": body, "headers": {}, "status_code": 200}, op.input_shape)
            params.pop("ResponseMetadata", None)
        query = QuerySerializer().serialize_to_request(params, op)
        form = urllib.parse.urlencode(query["body"]).encode()
        inner = dict(environ)
        inner.update({
            "PATH_INFO": "/",
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(form)),
            "wsgi.input": io.BytesIO(form),
        })
        captured = {}

        def inner_start(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return lambda data: None

        xml = b"".join(original(self, inner, inner_start))
        code = int(captured["status"].split()[0])
        if code >= 300:
            parsed = QueryParser().parse({"body": xml, "headers": {}, "status_code": code}, None)
            err = parsed.get("Error", {})
            name, message = err.get("Code", "InternalFailure"), err.get("Message", "")
            out = cbor_error(name, message)
            start_response(captured["status"], [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-query-error", f"{name};Sender"),
                ("Content-Length", str(len(out))),
            ])
            return [out]
        out = b""
        if op.output_shape is not None:
            parsed = QueryParser().parse({"body": xml, "headers": {}, "status_code": code}, op.output_shape)
            parsed.pop("ResponseMetadata", None)
            buf = bytearray()
            RpcV2CBORSerializer()._serialize_data_item(buf, parsed, op.output_shape)
            out = bytes(buf)
        start_response("200 OK", [
            ("Content-Type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("Content-Length", str(len(out))),
        ])
        return [out]

    DomainDispatcherApplication.__call__ = call


def shim_rds_account_attributes():
    """moto 5.2.5 has no RDS DescribeAccountAttributes (AccountQuotas). Answered here with
    the databases the emulated account holds and a quota of 400 (AWS's default is 40;
    every test stack shares this one account, as one whose quota was raised), so
    trellis's pre-flight reads the quota as it would on AWS."""
    from moto.core.responses import ActionResult
    from moto.rds.responses import RDSResponse

    def describe_account_attributes(self):
        used = len(self.backend.databases)
        quota = {"AccountQuotaName": "DBInstances", "Used": used, "Max": 400}
        return ActionResult({"AccountQuotas": [quota]})

    RDSResponse.describe_account_attributes = describe_account_attributes


def shim_elastic_ip_quota():
    """moto 5.2.5 reports `vpc-max-elastic-ips` as 5 but never refuses a sixth address,
    and every test stack shares the one emulated account, so the addresses the suites
    hold at once pass 5 while each stack needs one or two. Reported here as 200, the
    quota such a shared account would have raised, so that the pre-flight limit check
    reads a limit the account lives within (its judgement is held by pure tests)."""
    from moto.core.responses import ActionResult
    from moto.ec2.responses.account_attributes import AccountAttributes

    original = AccountAttributes.describe_account_attributes

    def describe_account_attributes(self):
        result = original(self)
        for attribute in result.result["AccountAttributes"]:
            if attribute["AttributeName"] in ("vpc-max-elastic-ips", "max-elastic-ips"):
                attribute["AttributeValues"] = [{"AttributeValue": "200"}]
        return ActionResult(result.result)

    AccountAttributes.describe_account_attributes = describe_account_attributes


def shim_instance_type_offerings():
    """moto 5.2.5 places a subnet created without a zone in a zone of its choosing, at
    random, and runs any instance type there, while its offerings data (AWS's) leaves
    some types out of some zones (t3 in us-east-1e). trellis's pre-flight check would
    then refuse specs at random that the emulator runs. The emulated account offers an
    instance type in every zone of the region where it offers it at all, as the emulator
    behaves; the check's judgement is held by pure tests."""
    from moto.ec2.models.instance_types import InstanceTypeOfferingBackend

    original = InstanceTypeOfferingBackend.describe_instance_type_offerings

    def describe_instance_type_offerings(self, location_type=None, filters=None):
        found = original(self, location_type, filters)
        if location_type != "availability-zone":
            return found
        zones = sorted({o["Location"] for o in original(self, location_type, {})})
        types = sorted({o["InstanceType"] for o in found})
        wanted = (filters or {}).get("location")
        return [
            {"InstanceType": t, "LocationType": location_type, "Location": z}
            for t in types
            for z in zones
            if not wanted or z in wanted
        ]

    InstanceTypeOfferingBackend.describe_instance_type_offerings = describe_instance_type_offerings


def shim_example_image():
    """The examples name `ami-0abcdef1234567890` (and a test changing the image,
    `ami-0fedcba9876543210`): placeholder images. moto 5.2.5 runs instances from any
    image id but describes only the images it loaded, so trellis's pre-flight check (the
    image exists in the region) would refuse every example. The images are added to
    each region's images here, as images the emulated account owns."""
    from moto.ec2.models.amis import Ami, AmiBackend

    original = AmiBackend._load_amis

    def load(self):
        original(self)
        for image in ["ami-0abcdef1234567890", "ami-0fedcba9876543210"]:
            self.amis[image] = Ami(self, ami_id=image, name=f"trellis-example-{image[-4:]}",
                                   owner_id="123456789012", architecture="x86_64",
                                   virtualization_type="hvm", root_device_type="ebs",
                                   root_device_name="/dev/xvda")

    AmiBackend._load_amis = load


def shim_autoscaling_notifications():
    """moto 5.2.5 has no auto scaling notification configurations (Put-, Describe- and
    DeleteNotificationConfiguration answer "not implemented"). They are kept here per
    region, group to topic to types, as AWS keeps them: a put replaces a topic's types,
    an unknown group is a ValidationError, and a deleted group's go with it. No
    notification is ever sent (moto's SNS is not involved)."""
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import ActionResult, EmptyResult

    def kept(backend):
        if not hasattr(backend, "trellis_notifications"):
            backend.trellis_notifications = {}
        # A group deleted since takes its notifications with it.
        for group in list(backend.trellis_notifications):
            if group not in backend.autoscaling_groups:
                del backend.trellis_notifications[group]
        return backend.trellis_notifications

    def group_of(self):
        group = self._get_param("AutoScalingGroupName")
        if group not in self.autoscaling_backend.autoscaling_groups:
            raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup '{group}' not found")
        return group

    def put_notification_configuration(self):
        group = group_of(self)
        topic = self._get_param("TopicARN")
        types = self._get_param("NotificationTypes", [])
        kept(self.autoscaling_backend).setdefault(group, {})[topic] = list(types)
        return EmptyResult()

    def delete_notification_configuration(self):
        group = group_of(self)
        topic = self._get_param("TopicARN")
        kept(self.autoscaling_backend).get(group, {}).pop(topic, None)
        return EmptyResult()

    def describe_notification_configurations(self):
        groups = self._get_param("AutoScalingGroupNames", [])
        found = [
            {"AutoScalingGroupName": group, "TopicARN": topic, "NotificationType": kind}
            for group, topics in sorted(kept(self.autoscaling_backend).items())
            if not groups or group in groups
            for topic, types in sorted(topics.items())
            for kind in types
        ]
        return ActionResult({"NotificationConfigurations": found})

    AutoScalingResponse.put_notification_configuration = put_notification_configuration
    AutoScalingResponse.delete_notification_configuration = delete_notification_configuration
    AutoScalingResponse.describe_notification_configurations = describe_notification_configurations


def shim_listener_ssl_policy_on_http():
    """moto 5.2.5 gives every new listener the security policy ELBSecurityPolicy-2016-08,
    plain HTTP ones too; AWS gives a policy to HTTPS (and TLS) listeners only, and an
    HTTP listener describes none. Here the default is dropped again for HTTP."""
    from moto.elbv2.responses import ELBV2Response

    original = ELBV2Response.create_listener

    def create_listener(self):
        result = original(self)
        for listener in result.result["Listeners"]:
            if listener.protocol not in ("HTTPS", "TLS") and self._get_param("SslPolicy") is None:
                listener.ssl_policy = None
        return result

    ELBV2Response.create_listener = create_listener


def shim_launch_template_version_client_token():
    """moto 5.2.5: CreateLaunchTemplateVersion ignores `ClientToken`, so a request resent
    after its answer was lost makes a second version. AWS makes the version once and
    answers every resend with the same token and the same parameters with that version
    (and `IdempotentParameterMismatch` when the parameters differ); so does the shim,
    per account and region. Installed after the user-data shim, which it wraps."""
    import threading

    from moto.ec2.exceptions import EC2ClientError

    original = LaunchTemplates.create_launch_template_version
    made = {}  # (account, region, token) -> (the request's other parameters, the answer)
    lock = threading.Lock()

    def create_launch_template_version(self):
        token = self._get_param("ClientToken")
        if not token:
            return original(self)
        asked = sorted((k, v) for k, v in self.querystring.items() if k not in ("ClientToken", "Action", "Version"))
        key = (self.current_account, self.region, token)
        with lock:
            if key in made:
                before, answer = made[key]
                if before != asked:
                    raise EC2ClientError(
                        "IdempotentParameterMismatch",
                        "The client token you have provided is associated with a resource that is already"
                        " deleted or has different parameters.",
                    )
                return answer
            answer = original(self)
            made[key] = (asked, answer)
            return answer

    LaunchTemplates.create_launch_template_version = create_launch_template_version


def shim_delete_policy_by_arn():
    """moto 5.2.5: DeletePolicy looks the policy up by the `PolicyName` given, and a
    policy's ARN (which AWS accepts there, and which trellis records as the policy's
    id) matches none, so the policy stays and moto answers success. AWS deletes the
    policy the ARN names; so does the shim, and a name that matches nothing is AWS's
    ValidationError rather than a silent success."""
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    def delete_policy(self):
        given = self._get_param("PolicyName") or ""
        policies = self.autoscaling_backend.policies
        name = given if given in policies else next((n for n, p in policies.items() if p.arn == given), None)
        if name is None:
            raise ValidationError(f"Scaling policy {given} not found")
        self.autoscaling_backend.delete_policy(name)
        return EmptyResult()

    AutoScalingResponse.delete_policy = delete_policy


# Parameters AWS documents as static (ApplyType `static` in DescribeEngineDefaultParameters)
# for the families the tests use: a change takes effect only at the next reboot.
STATIC_PARAMETERS = {
    "mysql": {
        "innodb_buffer_pool_instances",
        "innodb_log_buffer_size",
        "innodb_read_io_threads",
        "innodb_write_io_threads",
        "performance_schema",
        "lower_case_table_names",
    },
    "postgres": {
        "shared_buffers",
        "max_connections",
        "shared_preload_libraries",
        "max_worker_processes",
        "wal_buffers",
        "max_locks_per_transaction",
    },
}


def shim_static_parameters_refuse_immediate():
    """moto 5.2.5: ModifyDBParameterGroup takes `ApplyMethod=immediate` for any
    parameter. AWS refuses it for a static one (InvalidParameterCombination, "cannot use
    immediate apply method for static parameter"), which is what makes trellis fall back
    to `pending-reboot`; so does the shim, for the parameters of STATIC_PARAMETERS."""
    from moto.rds.exceptions import InvalidParameterCombination
    from moto.rds.models import RDSBackend

    original = RDSBackend.modify_db_parameter_group

    def modify_db_parameter_group(self, db_parameter_group_name, db_parameter_group_parameters):
        params = list(db_parameter_group_parameters)
        group = self.db_parameter_groups.get(db_parameter_group_name)
        family = (getattr(group, "family", None) or "").lower()
        static = next((names for engine, names in STATIC_PARAMETERS.items() if family.startswith(engine)), set())
        for p in params:
            if p.get("ParameterName") in static and str(p.get("ApplyMethod", "")).lower() == "immediate":
                raise InvalidParameterCombination("cannot use immediate apply method for static parameter")
        return original(self, db_parameter_group_name, params)

    RDSBackend.modify_db_parameter_group = modify_db_parameter_group


def shim_instance_groups_from_its_interface():
    """moto 5.2.5: an instance launched with `NetworkInterfaces` (as AWS requires when it
    asks for a public address, `AssociatePublicIpAddress`) keeps its groups on the
    interface only, and DescribeInstances shows the instance in no group. AWS shows an
    instance's groups as those of its primary interface; so does the shim."""
    from moto.ec2.models.instances import InstanceBackend

    original = InstanceBackend.run_instances

    def run_instances(self, *args, **kwargs):
        reservation = original(self, *args, **kwargs)
        for instance in reservation.instances:
            primary = instance.nics.get(0) if instance.nics else None
            if not instance.security_groups and primary is not None and primary._group_set:
                instance.security_groups = list(primary._group_set)
        return reservation

    InstanceBackend.run_instances = run_instances


def shim_root_volume_without_a_size():
    """moto 5.2.5: RunInstances refuses an EBS block device mapping with neither
    `VolumeSize` nor `SnapshotId` (MissingParameter). AWS takes the image's snapshot
    and size for a mapping of the image's root device, which is how a root volume is
    encrypted without being resized (`{ device_name: /dev/xvda, ebs: { encrypted: true
    } }`, what trellis's finding asks for). The shim gives such a mapping the size of
    moto's images' root volume (8 GiB)."""
    from moto.ec2.models.elastic_block_store import EBSBackend
    from moto.ec2.responses.instances import InstanceResponse

    original = InstanceResponse._validate_block_device_mapping

    def validate(device_mapping):
        ebs = device_mapping.get("Ebs")
        if isinstance(ebs, dict) and not ebs.get("VolumeSize") and not ebs.get("SnapshotId"):
            ebs["VolumeSize"] = 8
        return original(device_mapping)

    InstanceResponse._validate_block_device_mapping = staticmethod(validate)

    # The same for the instances an auto scaling group launches from such a template,
    # whose volumes moto makes without passing through RunInstances.
    create_volume = EBSBackend.create_volume

    def create_volume_with_the_image_size(self, size, zone_name, snapshot_id=None, *args, **kwargs):
        if size is None and snapshot_id is None:
            size = 8
        return create_volume(self, size, zone_name, snapshot_id, *args, **kwargs)

    EBSBackend.create_volume = create_volume_with_the_image_size


def shim_set_rule_priorities_as_a_whole():
    """moto 5.2.5: SetRulePriorities checks each new priority against every rule of the
    listener as it stands, the rules being moved included, so two rules cannot swap
    priorities in one call (`PriorityInUse`). AWS judges the new order as a whole: a
    priority is in use only when a rule left out of the request holds it. The shim
    checks that, then sets them all."""
    from moto.elbv2.exceptions import DuplicatePriorityError, PriorityInUseError, RuleNotFoundError
    from moto.elbv2.models import ELBv2Backend

    def set_rule_priorities(self, rule_priorities):
        priorities = [int(p["Priority"]) for p in rule_priorities]
        for priority in set(priorities):
            if priorities.count(priority) > 1:
                raise DuplicatePriorityError(priority)
        arns = [p["RuleArn"] for p in rule_priorities]
        rules = []
        for arn in arns:
            found = self.describe_rules(listener_arn=None, rule_arns=[arn])
            if not found:
                raise RuleNotFoundError()
            rules.append(found[0])
        for rule, priority in zip(rules, priorities):
            listener = self.describe_listeners(None, [rule.listener_arn])[0]
            for other in listener.rules.values():
                if other.arn not in arns and other.priority == priority:
                    raise PriorityInUseError()
        for rule, priority in zip(rules, priorities):
            rule.priority = priority
        return rules

    ELBv2Backend.set_rule_priorities = set_rule_priorities


def shim_subnet_ipv6_block_state():
    """moto 5.2.5 describes a subnet's IPv6 block with its state nested twice: the
    `State` of `Ipv6CidrBlockState` reads `{'State': 'associated'}`, which no SDK
    takes for `associated`. AWS gives the word. The shim gives it too."""
    from moto.ec2.models.subnets import Subnet

    def ipv6_cidr_block_association_set(self):
        out = []
        for association in self.ipv6_cidr_block_associations.values():
            state = association["ipv6CidrBlockState"]
            state = state.get("State") if isinstance(state, dict) else state
            if state == "associated":
                out.append(
                    {
                        "ipv6CidrBlock": association["ipv6CidrBlock"],
                        "associationId": association["associationId"],
                        "ipv6CidrBlockState": {"state": state},
                    }
                )
        return out

    Subnet.ipv6_cidr_block_association_set = property(ipv6_cidr_block_association_set)


def shim_hosted_zone_ids():
    """moto 5.2.5 makes hosted zone ids of 22 random letters and digits; AWS's begin
    with `Z` (`Z1D633PJN98FT9`, `Z0123456789ABCDEFGHIJ`), which is how trellis tells a
    zone's id from a name. The shim keeps moto's id and puts a `Z` first."""
    from moto.route53 import models

    original = models.create_route53_zone_id

    def create_route53_zone_id(*args, **kwargs):
        return "Z" + original(*args, **kwargs)[1:]

    models.create_route53_zone_id = create_route53_zone_id


def shim_bucket_versioning_root():
    """moto 5.2.5 answers GetBucketVersioning with a `<GetBucketVersioningResponse>`
    root; AWS's root is `<VersioningConfiguration>` (the output's XML name), and an SDK
    that checks the root element (the Rust SDK does) cannot read moto's. The shim
    answers with AWS's root, the status inside when there is one."""
    from moto.s3.responses import S3Response

    def get_bucket_versioning(self):
        status = self.backend.get_bucket_versioning(self.bucket_name)
        inner = f"<Status>{status}</Status>" if status else ""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>'
        )
        return 200, {"Content-Type": "application/xml"}, body

    S3Response.get_bucket_versioning = get_bucket_versioning


def shim_egress_only_gateway_filters():
    """moto 5.2.5's DescribeEgressOnlyInternetGateways ignores `Filters` (its own
    docstring says so) and answers with every gateway of the region; AWS filters by
    `tag:<key>` and `tag-key`. The shim filters by those."""
    from moto.ec2.models.internet_gateways import EgressOnlyInternetGatewayBackend
    from moto.ec2.responses.egress_only_internet_gateways import EgressOnlyInternetGateway as Response

    original = EgressOnlyInternetGatewayBackend.describe_egress_only_internet_gateways

    def describe_egress_only_internet_gateways(self):
        from moto.core.responses import ActionResult

        ids = self._get_param("EgressOnlyInternetGatewayIds", [])
        found = original(self.ec2_backend, ids)

        def tags(gateway):
            return {t["key"]: t["value"] for t in gateway.get_tags()}

        for f in self._get_param("Filters", []) or []:
            name, values = f.get("Name", ""), f.get("Values", [])
            if name.startswith("tag:"):
                found = [g for g in found if tags(g).get(name[4:]) in values]
            elif name == "tag-key":
                found = [g for g in found if any(k in values for k in tags(g))]
        return ActionResult({"EgressOnlyInternetGateways": found})

    Response.describe_egress_only_internet_gateways = describe_egress_only_internet_gateways


def shim_efs_update_file_system():
    """moto 5.2.5 implements neither UpdateFileSystem (a file system's throughput mode
    and provisioned throughput, changed in place) nor DeleteFileSystemPolicy, and
    answers both "not implemented". AWS changes the settings and answers the file
    system's description (202), and removes the policy (200). So does the shim."""
    import json

    from moto.efs.exceptions import FileSystemNotFound
    from moto.efs.responses import EFSResponse

    def found(self, file_system_id):
        fs = self.efs_backend.file_systems_by_id.get(file_system_id)
        if fs is None:
            raise FileSystemNotFound(file_system_id)
        return fs

    def update_file_system(self):
        fs = found(self, self._get_param("FileSystemId"))
        mode = self._get_param("ThroughputMode")
        if mode:
            fs.throughput_mode = mode
        mibps = self._get_param("ProvisionedThroughputInMibps")
        if mibps is not None:
            fs.provisioned_throughput_in_mibps = mibps
        elif mode and mode != "provisioned":
            fs.provisioned_throughput_in_mibps = None
        return json.dumps(fs.info_json()), {"status": 202, "Content-Type": "application/json"}

    def delete_file_system_policy(self):
        found(self, self._get_param("FileSystemId")).file_system_policy = None
        return "{}", {"status": 200, "Content-Type": "application/json"}

    EFSResponse.update_file_system = update_file_system
    EFSResponse.delete_file_system_policy = delete_file_system_policy


def simulate_efs_lifecycle():
    """Not a defect, a simulation of what moto lacks: moto 5.2.5 makes every file
    system and mount target `available` at once and deletes a mount target at once.
    EFS answers a new file system `creating` for seconds and a new mount target for a
    minute or more, and a deleted mount target stays `deleting` for as long, its file
    system answering `FileSystemInUse` meanwhile. Here each is `creating` for
    `READY_AFTER` seconds, and a deleted mount target lingers `deleting` for `LINGER`
    seconds before moto deletes it."""
    import json
    import time

    from moto.efs.responses import EFSResponse

    READY_AFTER = 1.5
    LINGER = 2.0
    made = {}  # file system or mount target id -> time made
    leaving = {}  # mount target id -> time its delete was asked

    def sweep(backend):
        now = time.monotonic()
        for mt_id, at in list(leaving.items()):
            if now - at >= LINGER:
                del leaving[mt_id]
                if mt_id in backend.mount_targets_by_id:
                    original_delete(backend, mt_id)

    def state(item, key):
        at = made.get(item.get(key))
        if item.get(key) in leaving:
            item["LifeCycleState"] = "deleting"
        elif at is not None and time.monotonic() - at < READY_AFTER:
            item["LifeCycleState"] = "creating"

    def wrap(name, key, list_key=None, record=False):
        original = getattr(EFSResponse, name)

        def handler(self):
            sweep(self.efs_backend)
            body, headers = original(self)
            answer = json.loads(body)
            items = answer.get(list_key, []) if list_key else [answer]
            for item in items:
                if record and item.get(key):
                    made[item[key]] = time.monotonic()
                state(item, key)
            return json.dumps(answer), headers

        setattr(EFSResponse, name, handler)

    wrap("create_file_system", "FileSystemId", record=True)
    wrap("describe_file_systems", "FileSystemId", "FileSystems")
    wrap("create_mount_target", "MountTargetId", record=True)
    wrap("describe_mount_targets", "MountTargetId", "MountTargets")

    from moto.efs.models import EFSBackend

    original_delete = EFSBackend.delete_mount_target

    def delete_mount_target(backend, mount_target_id):
        sweep(backend)
        if mount_target_id in backend.mount_targets_by_id:
            leaving.setdefault(mount_target_id, time.monotonic())
            return
        original_delete(backend, mount_target_id)

    EFSBackend.delete_mount_target = delete_mount_target

    original_delete_fs = EFSBackend.delete_file_system

    def delete_file_system(backend, file_system_id):
        sweep(backend)
        original_delete_fs(backend, file_system_id)

    EFSBackend.delete_file_system = delete_file_system


def simulate_sns_confirmation():
    """Not a defect, a simulation of what moto lacks: moto 5.2.5 confirms every
    subscription at once. SNS sends an email or HTTP(S) endpoint a confirmation link
    and reports the subscription `PendingConfirmation` until it is followed. Here such a
    subscription is pending when made; `ConfirmSubscription` with the subscription's
    ARN as its token (the link's token, which only the endpoint sees on AWS) confirms
    it, and answers its ARN."""
    from moto.core.responses import ActionResult
    from moto.sns.models import SNSBackend
    from moto.sns.responses import SNSResponse

    CONFIRMED_BY_LINK = {"email", "email-json", "http", "https"}
    original_subscribe = SNSBackend.subscribe

    def subscribe(self, topic_arn, endpoint, protocol):
        known = self._find_subscription(topic_arn, endpoint, protocol)
        subscription = original_subscribe(self, topic_arn, endpoint, protocol)
        if known is None and protocol in CONFIRMED_BY_LINK:
            subscription.attributes["PendingConfirmation"] = True
            subscription.attributes["ConfirmationWasAuthenticated"] = False
        return subscription

    def confirm_subscription(self):
        token = self._get_param("Token")
        subscription = self.backend.subscriptions.get(token)
        if subscription is None or subscription.topic.arn != self._get_param("TopicArn"):
            return original_confirm(self)
        subscription.attributes["PendingConfirmation"] = False
        subscription.attributes["ConfirmationWasAuthenticated"] = True
        return ActionResult({"SubscriptionArn": subscription.arn})

    original_confirm = SNSResponse.confirm_subscription
    SNSBackend.subscribe = subscribe
    SNSResponse.confirm_subscription = confirm_subscription


def shim_autoscaling_group_settings():
    """moto 5.2.5: CreateAutoScalingGroup drops `MaxInstanceLifetime` and
    `DefaultInstanceWarmup`; UpdateAutoScalingGroup drops those and `CapacityRebalance`
    and `TerminationPolicies`; EnableMetricsCollection replaces the group's metrics
    where AWS adds to them; DisableMetricsCollection is not implemented. AWS keeps each
    setting as given and answers it in DescribeAutoScalingGroups; so does the shim
    (on the group, under the names moto's answer reads)."""
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.core.responses import EmptyResult

    SETTINGS = [
        ("MaxInstanceLifetime", "max_instance_lifetime", int),
        ("DefaultInstanceWarmup", "default_instance_warmup", int),
        ("CapacityRebalance", "capacity_rebalance", lambda v: str(v).lower() == "true"),
    ]

    def keep(self):
        group = self.autoscaling_backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))
        if group is None:
            return
        for param, attr, convert in SETTINGS:
            value = self._get_param(param)
            if value is not None:
                setattr(group, attr, convert(value))
        policies = self._get_param("TerminationPolicies")
        if policies:
            group.termination_policies = policies

    def wrap(name):
        original = getattr(AutoScalingResponse, name)

        def handler(self):
            result = original(self)
            keep(self)
            return result

        setattr(AutoScalingResponse, name, handler)

    wrap("create_auto_scaling_group")
    wrap("update_auto_scaling_group")

    def enable_metrics_collection(self):
        group = self.autoscaling_backend.describe_auto_scaling_groups([self._get_param("AutoScalingGroupName")])[0]
        asked = self._get_param("Metrics") or []
        group.metrics = list(dict.fromkeys(list(group.metrics) + asked))
        return EmptyResult()

    def disable_metrics_collection(self):
        group = self.autoscaling_backend.describe_auto_scaling_groups([self._get_param("AutoScalingGroupName")])[0]
        asked = self._get_param("Metrics") or []
        group.metrics = [m for m in group.metrics if asked and m not in asked]
        return EmptyResult()

    AutoScalingResponse.enable_metrics_collection = enable_metrics_collection
    AutoScalingResponse.disable_metrics_collection = disable_metrics_collection


def shim_rds_performance_insights():
    """moto 5.2.5 ignores `EnablePerformanceInsights`,
    `PerformanceInsightsRetentionPeriod` and `PerformanceInsightsKMSKeyId` in
    CreateDBInstance, CreateDBInstanceReadReplica and ModifyDBInstance, and describes
    every database without them. AWS keeps them (retention 7 days and its own key when
    turned on without them) and describes them; so does the shim."""
    from moto.rds.responses import RDSResponse

    def keep(self, result):
        database = result.result.get("DBInstance") if hasattr(result, "result") else None
        if database is None:
            return
        enabled = self.params.get("EnablePerformanceInsights")
        if enabled is not None:
            database.performance_insights_enabled = str(enabled).lower() == "true"
        if getattr(database, "performance_insights_enabled", False):
            retention = self.params.get("PerformanceInsightsRetentionPeriod")
            database.performance_insights_retention_period = int(retention) if retention is not None else (
                getattr(database, "performance_insights_retention_period", None) or 7
            )
            key = self.params.get("PerformanceInsightsKMSKeyId")
            database.performance_insights_kms_key_id = key or getattr(database, "performance_insights_kms_key_id", None) or (
                f"arn:aws:kms:{self.region}:{self.current_account}:key/performance-insights"
            )

    def wrap(name):
        original = getattr(RDSResponse, name)

        def handler(self):
            result = original(self)
            keep(self, result)
            return result

        setattr(RDSResponse, name, handler)

    for name in ["create_db_instance", "create_db_instance_read_replica", "modify_db_instance"]:
        wrap(name)


def shim_promoted_replica_keeps_its_source():
    """moto 5.2.5: PromoteReadReplica marks the database no longer a replica but
    keeps `ReadReplicaSourceDBInstanceIdentifier` on it and its name among its former
    source's replicas. AWS clears both once the promotion is done; so does the shim."""
    from moto.rds.models import RDSBackend

    original = RDSBackend.promote_read_replica

    def promote_read_replica(self, db_kwargs):
        database = self.databases[db_kwargs["db_instance_identifier"]]
        source_id = database.source_db_instance_identifier
        promoted = original(self, db_kwargs)
        if source_id:
            source = self.databases.get(source_id)
            if source is not None and promoted.db_instance_identifier in source.replicas:
                source.remove_replica(promoted)
            promoted.source_db_instance_identifier = None
        return promoted

    RDSBackend.promote_read_replica = promote_read_replica


def shim_describe_option_groups_without_a_name():
    """moto 5.2.5: DescribeOptionGroups without `OptionGroupName` fails with a
    KeyError (an HTTP 500), and with no group matching answers
    `OptionGroupNotFoundFault` even when no name was asked for. AWS lists every
    option group (none is an empty list) and refuses only a name it does not know;
    so does the shim."""
    from moto.rds.exceptions import OptionGroupNotFoundFaultError
    from moto.rds.models import RDSBackend

    def describe_option_groups(self, option_group_kwargs):
        name = option_group_kwargs.get("option_group_name")
        engine = option_group_kwargs.get("engine_name")
        version = option_group_kwargs.get("major_engine_version")
        found = [
            g
            for g in self.option_groups.values()
            if (not name or g.name == name)
            and (not engine or g.engine_name == engine)
            and (not version or g.major_engine_version == version)
        ]
        if name and not found:
            raise OptionGroupNotFoundFaultError(name)
        return found

    RDSBackend.describe_option_groups = describe_option_groups


def _records_held(account_id, name, value):
    """Whether a hosted zone of the account holds the CNAME `name` -> `value`."""
    from moto.route53.models import route53_backends

    want = (name.rstrip(".").lower(), value.rstrip(".").lower())
    for partition in ("aws",):
        backend = route53_backends[account_id][partition]
        for zone in backend.zones.values():
            for rrset in zone.rrsets:
                if rrset.type != "CNAME" or rrset.name.rstrip(".").lower() != want[0]:
                    continue
                for record in rrset.records or []:
                    held = record.get("Value", "") if isinstance(record, dict) else str(record)
                    if held.rstrip(".").lower() == want[1]:
                        return True
    return False


def simulate_dns_validation():
    """Not a defect, a simulation of what moto lacks: moto 5.2.5 issues every requested
    certificate 60 seconds after the request, whatever DNS holds. ACM issues a
    DNS-validated certificate once each of its names' validation CNAMEs resolves, and
    leaves it `PENDING_VALIDATION` otherwise (for up to 72 hours). Here a certificate
    is issued `ISSUE_AFTER` seconds after a hosted zone of its account first holds all
    its validation records (the name and value its `DescribeCertificate` shows), and
    never without them."""
    from moto.acm.models import CertBundle
    from moto.core.utils import utcnow

    ISSUE_AFTER = 2
    original_describe = CertBundle.describe

    def check(self):
        if self.type != "AMAZON_ISSUED" or self.status != "PENDING_VALIDATION":
            return
        account_id = self.arn.split(":")[4]
        options = original_describe(self)["Certificate"].get("DomainValidationOptions", [])
        held = all(
            _records_held(account_id, o["ResourceRecord"]["Name"], o["ResourceRecord"]["Value"]) for o in options
        )
        if not held:
            self.records_seen_at = None
            return
        seen = getattr(self, "records_seen_at", None) or utcnow()
        self.records_seen_at = seen
        if (utcnow() - seen).total_seconds() >= ISSUE_AFTER:
            self.status = "ISSUED"

    CertBundle.check = check


def simulate_route53_propagation():
    """Not a defect, a simulation of what moto lacks: moto 5.2.5 answers every
    ChangeResourceRecordSets and GetChange with `INSYNC` (and one fixed change id).
    Route53 answers a change `PENDING` and reports it `INSYNC` once every Route53
    server has it (about a minute). Here each change gets an id of its own, is
    `PENDING` when made, and `INSYNC` from `IN_SYNC_AFTER` seconds on."""
    import itertools
    import time

    from moto.route53.responses import Route53

    IN_SYNC_AFTER = 1.5
    made = {}  # change id -> time made
    counter = itertools.count(1)
    original_change = Route53.change_resource_record_sets
    original_get = Route53.get_change

    def change_resource_record_sets(self):
        result = original_change(self)
        change_id = f"C{next(counter):012d}TRELLIS"
        made[change_id] = time.monotonic()
        result.result["ChangeInfo"]["Id"] = f"/change/{change_id}"
        result.result["ChangeInfo"]["Status"] = "PENDING"
        return result

    def get_change(self):
        result = original_get(self)
        change_id = self._get_param("Id").split("/")[-1]
        at = made.get(change_id)
        if at is not None and time.monotonic() - at < IN_SYNC_AFTER:
            result.result["ChangeInfo"]["Status"] = "PENDING"
        return result

    Route53.change_resource_record_sets = change_resource_record_sets
    Route53.get_change = get_change


if __name__ == "__main__":
    shim_launch_template_version_user_data()
    shim_launch_template_version_client_token()
    shim_delete_policy_by_arn()
    shim_static_parameters_refuse_immediate()
    shim_instance_groups_from_its_interface()
    shim_root_volume_without_a_size()
    shim_replace_network_acl_association_unknown_id()
    shim_network_acl_entry_icmp()
    shim_modify_db_subnet_group_drops_the_group()
    shim_unassociated_address_instance_id()
    shim_deleted_nat_gateway_keeps_its_address()
    shim_nat_gateway_tag_filters()
    shim_instance_profile_path_prefix()
    shim_replaced_profile_association()
    shim_unknown_instance_profile_error()
    shim_remove_role_not_in_profile()
    shim_load_balancer_defaults()
    shim_load_balancer_default_group()
    shim_run_instances_profile_for_each()
    shim_launch_template_tags()
    shim_own_tags_by_index()
    shim_cloudwatch_rpc_v2_cbor()
    shim_example_image()
    shim_rds_account_attributes()
    shim_elastic_ip_quota()
    shim_instance_type_offerings()
    shim_autoscaling_notifications()
    shim_listener_ssl_policy_on_http()
    shim_set_rule_priorities_as_a_whole()
    shim_subnet_ipv6_block_state()
    shim_hosted_zone_ids()
    shim_egress_only_gateway_filters()
    shim_bucket_versioning_root()
    shim_efs_update_file_system()
    shim_autoscaling_group_settings()
    shim_rds_performance_insights()
    shim_promoted_replica_keeps_its_source()
    shim_describe_option_groups_without_a_name()
    # Not shims of defects: what moto does not simulate at all (DNS validation, a
    # change reaching Route53's servers, EFS's slow mount targets, SNS's confirmation links; and in refresh.py the instance refresh,
    # application health, draining).
    simulate_dns_validation()
    simulate_route53_propagation()
    simulate_efs_lifecycle()
    simulate_sns_confirmation()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import refresh

    refresh.install()
    # Not a shim either: every request is held to AWS's API models (models.py).
    import models

    models.install()
    main(sys.argv[1:])
