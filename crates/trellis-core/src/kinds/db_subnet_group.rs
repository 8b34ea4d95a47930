//! The schema of `db_subnet_group`; its AWS side is `trellis-aws/src/kinds/db_subnet_group.rs`.

use super::{
    attr, default, force, limit, terraform_and_old, ARN, BASE, GENERATED_LOWER_NAME, PROTECT, RDS_NAME_ID, TAGS, tf};
use crate::schema::{Default, Kind, Mode, Object, Type};

pub static DB_SUBNET_GROUP: Kind = Kind {
    name: "db_subnet_group",
    doc: "The subnets a database may live in (`aws rds create-db-subnet-group`); give subnets in at least two availability zones. Its id is its name.",
    id_prefix: "",
    generated_name: Some("db_subnet_group_name"),
    object: Object {
        check: None,
        other_names: &[
            terraform_and_old("name", "db_subnet_group_name"),
            terraform_and_old("description", "db_subnet_group_description"),
        ],
        attrs: &[
            force(limit(attr("db_subnet_group_name", Type::Str, Mode::OptionalComputed, GENERATED_LOWER_NAME), 255)),
            default(
                attr(
                    "db_subnet_group_description",
                    Type::Str,
                    Mode::Optional,
                    "Changed in place (`modify-db-subnet-group`).",
                ),
                Default::Str("Managed by trellis"),
            ),
            attr(
                "subnet_ids",
                Type::Set(&Type::Ref("subnet")),
                Mode::Required,
                "The subnets, by reference (`${subnet.private_a}`); changed in place.",
            ),
            TAGS,
            ARN,
            RDS_NAME_ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_db_subnet_group")],
    create_call: Some(("rds", "CreateDBSubnetGroup")),
    id_is: Some(("db_subnet_group_name", true)),
    ..BASE
};
