//! The way out of private subnets: Elastic IPs (also for fixed servers) and NAT
//! gateways, which a route table's route names with `nat_gateway_id`.

use super::{attr, default, force, terraform, ID, PROTECT, TAGS};
use crate::schema::{Default, Kind, Mode, Object, Type};

pub static ELASTIC_IP: Kind = Kind {
    name: "elastic_ip",
    doc: "A public IPv4 address for a VPC (`aws ec2 allocate-address --domain vpc`), associated with an instance when `instance_id` says so (`associate-address`). Releasing it disassociates it first. Its id is its allocation id.",
    id_prefix: "eipalloc-",
    versioned: None,
    generated_name: None,
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    object: Object {
        check: None,
        other_names: &[terraform("instance", "instance_id")],
        attrs: &[
            force(default(
                attr("domain", Type::Enum(&["vpc"]), Mode::Optional, "`vpc`: an address for a VPC's instances."),
                Default::Str("vpc"),
            )),
            attr(
                "instance_id",
                Type::Ref("instance"),
                Mode::Optional,
                "The instance it is associated with (`associate-address --instance-id`); changed in place, and left out, the address is associated with nothing.",
            ),
            TAGS,
            attr("public_ip", Type::Str, Mode::Computed, "The address."),
            attr("allocation_id", Type::Str, Mode::Computed, "Its allocation id (also its id)."),
            ID,
            PROTECT,
        ],
    },
};

pub static NAT_GATEWAY: Kind = Kind {
    name: "nat_gateway",
    doc: "A public NAT gateway (`aws ec2 create-nat-gateway`) in a public subnet with an Elastic IP, through which private subnets reach out: a route table's route names it with `nat_gateway_id`. Create waits until it is `available`; delete waits until it is `deleted`, so its address can then be released. Its id is its NAT gateway id.",
    id_prefix: "nat-",
    versioned: None,
    generated_name: None,
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("subnet_id", Type::Ref("subnet"), Mode::Required, "The public subnet it lives in.")),
            force(attr(
                "allocation_id",
                Type::Ref("elastic_ip"),
                Mode::Required,
                "Its Elastic IP: `${elastic_ip.NAME}`.",
            )),
            TAGS,
            attr("public_ip", Type::Str, Mode::Computed, "Its public address (its Elastic IP's)."),
            attr("private_ip", Type::Str, Mode::Computed, "Its address in the subnet."),
            ID,
            PROTECT,
        ],
    },
};
