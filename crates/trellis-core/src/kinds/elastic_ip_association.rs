//! The schema of `elastic_ip_association`; its AWS side is
//! `trellis-aws/src/kinds/elastic_ip_association.rs`.

use super::{attr, force, BASE, ID, PROTECT, tf};
use crate::schema::{Kind, Mode, Object, Type};

pub static ELASTIC_IP_ASSOCIATION: Kind = Kind {
    name: "elastic_ip_association",
    doc: "Associates an Elastic IP with an instance (`aws ec2 associate-address --allocation-id ... --instance-id ...`), as a resource of its own: the instance may then name its own address (`${elastic_ip.X.public_ip}` in its `user_data`) without a cycle. The address's `instance_id` is then left out, and reads back as the association made it. Deleting it disassociates the address. Its id is the association id.",
    id_prefix: "eipassoc-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("allocation_id", Type::Ref("elastic_ip"), Mode::Required, "The address.")),
            force(attr("instance_id", Type::Ref("instance"), Mode::Required, "The instance it answers for.")),
            attr("public_ip", Type::Str, Mode::Computed, "The address."),
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_eip_association")],
    create_call: Some(("ec2", "AssociateAddress")),
    ..BASE
};
