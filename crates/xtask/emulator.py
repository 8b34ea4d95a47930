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


if __name__ == "__main__":
    shim_launch_template_version_user_data()
    main(sys.argv[1:])
