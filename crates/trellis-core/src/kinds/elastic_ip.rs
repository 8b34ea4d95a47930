//! The schema of `elastic_ip`; its AWS side is `trellis-aws/src/kinds/elastic_ip.rs`.

use super::{interrupts, attr, default, force, terraform, BASE, ID, PROTECT, TAGS, tf};
use crate::schema::{Effect, Default, Kind, Mode, Object, Type};

pub static ELASTIC_IP: Kind = Kind {
    name: "elastic_ip",
    doc: "A public IPv4 address for a VPC (`aws ec2 allocate-address --domain vpc`), associated with an instance when `instance_id` says so (`associate-address`) or by an `elastic_ip_association`. Releasing it disassociates it first. Its id is its allocation id.",
    id_prefix: "eipalloc-",
    object: Object {
        check: None,
        other_names: &[terraform("instance", "instance_id"), terraform("vpc", "domain")],
        attrs: &[
            force(default(
                attr("domain", Type::Enum(&["vpc"]), Mode::Optional, "`vpc`: an address for a VPC's instances."),
                Default::Str("vpc"),
            )),
            interrupts(
                attr(
                    "instance_id",
                    Type::Ref("instance"),
                    Mode::OptionalComputed,
                    "The instance it is associated with (`associate-address --instance-id`), changed in place. Left out, the address's association is not this resource's to manage: none, or an `elastic_ip_association`'s (as an instance that names its own address needs).",
                ),
                Effect::Network,
                "the address moves: connections to it drop, and it answers nowhere for a few seconds",
            ),
            TAGS,
            attr("public_ip", Type::Str, Mode::Computed, "The address."),
            attr("allocation_id", Type::Ref("elastic_ip"), Mode::Computed, "Its allocation id (also its id)."),
            ID,
            PROTECT,
        ],
    },
    account_limit: Some("vpc-max-elastic-ips"),
    terraform_types: &[tf("aws_eip")],
    create_call: Some(("ec2", "AllocateAddress")),
    ..BASE
};
