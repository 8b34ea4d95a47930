//! The schema of `nat_gateway`; its AWS side is `trellis-aws/src/kinds/nat_gateway.rs`.

use super::{attr, force, BASE, ID, PROTECT, TAGS, tf};
use crate::schema::{Kind, Mode, Object, Type};

pub static NAT_GATEWAY: Kind = Kind {
    name: "nat_gateway",
    doc: "A public NAT gateway (`aws ec2 create-nat-gateway`) in a public subnet with an Elastic IP, through which private subnets reach out: a route table's route names it with `nat_gateway_id`. Create waits until it is `available`; delete waits until it is `deleted`, so its address can then be released. Its id is its NAT gateway id.",
    id_prefix: "nat-",
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
    terraform_types: &[tf("aws_nat_gateway")],
    create_call: Some(("ec2", "CreateNatGateway")),
    ..BASE
};
