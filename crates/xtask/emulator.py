"""Starts the pinned moto server with the test tooling's shims for moto's defects.

    python emulator.py -H 127.0.0.1 -p PORT

Each shim names the defect it covers; drop it when a moto release fixes it. trellis
itself never works around the emulator.
"""

import sys

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


if __name__ == "__main__":
    shim_launch_template_version_user_data()
    shim_replace_network_acl_association_unknown_id()
    main(sys.argv[1:])
