//! The schema of `internet_gateway`; its AWS side is `trellis-aws/src/kinds/internet_gateway.rs`.

use super::{interrupts, attr, BASE, ID, PROTECT, TAGS, tf, tf_part};
use crate::schema::{Effect, Kind, Mode, Object, Type};

pub static INTERNET_GATEWAY: Kind = Kind {
    name: "internet_gateway",
    doc: "An internet gateway, attached to a VPC (`create-internet-gateway`, `attach-internet-gateway`).",
    id_prefix: "igw-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[interrupts(
                attr("vpc_id", Type::Ref("vpc"), Mode::Optional, "The VPC it is attached to."),
                Effect::Network,
                "the gateway is detached and attached again: the VPC it leaves has no internet access from then on, the new one from when it is attached",
            ), TAGS, ID, PROTECT],
    },
    terraform_types: &[tf("aws_internet_gateway"), tf_part("aws_internet_gateway_attachment", "vpc_id")],
    create_call: Some(("ec2", "CreateInternetGateway")),
    ..BASE
};
