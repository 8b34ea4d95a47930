//! The schema of `internet_gateway`; its AWS side is `trellis-aws/src/kinds/internet_gateway.rs`.

use super::{attr, BASE, ID, PROTECT, TAGS};
use crate::schema::{Kind, Mode, Object, Type};

pub static INTERNET_GATEWAY: Kind = Kind {
    name: "internet_gateway",
    doc: "An internet gateway, attached to a VPC (`create-internet-gateway`, `attach-internet-gateway`).",
    id_prefix: "igw-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[attr("vpc_id", Type::Ref("vpc"), Mode::Optional, "The VPC it is attached to."), TAGS, ID, PROTECT],
    },
    ..BASE
};
