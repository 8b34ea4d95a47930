//! The schema of `db_parameter_group`; its AWS side is `trellis-aws/src/kinds/db_parameter_group.rs`.

use super::{
    attr, default, force, limit, note, terraform_and_old, ARN, BASE, GENERATED_LOWER_NAME, PROTECT, RDS_NAME_ID, TAGS, tf};
use crate::schema::{Default, Kind, Mode, Object, Type};

pub static DB_PARAMETER_GROUP: Kind = Kind {
    name: "db_parameter_group",
    doc: "Engine settings for databases (`aws rds create-db-parameter-group`), e.g. a raised `max_allowed_packet`. Dynamic parameters apply at once; static ones (AWS says which) wait for a reboot of each database using the group, which trellis does for databases that say `reboot_for_parameters: true`. Its id is its name.",
    id_prefix: "",
    generated_name: Some("db_parameter_group_name"),
    object: Object {
        check: None,
        other_names: &[
            terraform_and_old("name", "db_parameter_group_name"),
            terraform_and_old("family", "db_parameter_group_family"),
        ],
        attrs: &[
            force(limit(attr("db_parameter_group_name", Type::Str, Mode::OptionalComputed, GENERATED_LOWER_NAME), 255)),
            force(attr(
                "db_parameter_group_family",
                Type::Str,
                Mode::Required,
                "The engine family, e.g. `mysql8.0` or `postgres16`; a change replaces the group.",
            )),
            force(default(
                attr("description", Type::Str, Mode::Optional, "AWS cannot change it later."),
                Default::Str("Managed by trellis"),
            )),
            default(
                note(
                attr(
                    "parameters",
                    Type::Map,
                    Mode::Optional,
                    "Parameter names to values, e.g. `max_allowed_packet: \"67108864\"`. Only these are managed; one removed from the spec is reset to the engine default (`reset-db-parameter-group`).",
                ),
                "dynamic parameters apply at once; static ones wait for a reboot of the databases using the group (trellis reboots those with `reboot_for_parameters: true`)",
                ),
                Default::EmptyMap,
            ),
            TAGS,
            ARN,
            RDS_NAME_ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_db_parameter_group")],
    create_call: Some(("rds", "CreateDBParameterGroup")),
    id_is: Some(("db_parameter_group_name", true)),
    ..BASE
};
