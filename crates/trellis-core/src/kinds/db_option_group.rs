//! The schema of `db_option_group`; its AWS side is `trellis-aws/src/kinds/db_option_group.rs`.

use super::{attr, default, force, limit, terraform, ARN, BASE, GENERATED_LOWER_NAME, PROTECT, RDS_NAME_ID, TAGS, tf};
use crate::schema::{Default, Kind, Mode, Object, Type};

/// One option of the group (`--options-to-include`'s members).
static OPTION: Object = Object {
    check: None,
    other_names: &[terraform("version", "option_version")],
    attrs: &[
        attr("option_name", Type::Str, Mode::Required, "`OptionName`, e.g. `MARIADB_AUDIT_PLUGIN`."),
        attr("port", Type::Int, Mode::Optional, "`Port`, for an option that listens (`MEMCACHED`)."),
        attr("option_version", Type::Str, Mode::Optional, "`OptionVersion`."),
        default(
            attr(
                "vpc_security_group_memberships",
                Type::Set(&Type::Ref("security_group")),
                Mode::Optional,
                "`VpcSecurityGroupMemberships`: who may reach an option that listens.",
            ),
            Default::EmptyList,
        ),
        default(
            attr("option_settings", Type::Map, Mode::Optional, "`OptionSettings`: names to values, e.g. `SERVER_AUDIT_EVENTS: CONNECT`."),
            Default::EmptyMap,
        ),
    ],
};

pub static DB_OPTION_GROUP: Kind = Kind {
    name: "db_option_group",
    doc: "Engine features for databases (`aws rds create-option-group`): MySQL's audit plugin, Oracle's and SQL Server's options; a database names it with `option_group_name`. Its options change in place (`modify-option-group --options-to-include`, `--options-to-remove`, applied at once); the engine and its version replace it. Its id is its name.",
    id_prefix: "",
    generated_name: Some("option_group_name"),
    object: Object {
        check: None,
        other_names: &[terraform("name", "option_group_name"), terraform("option", "options")],
        attrs: &[
            force(limit(attr("option_group_name", Type::Str, Mode::OptionalComputed, GENERATED_LOWER_NAME), 255)),
            force(attr("engine_name", Type::Str, Mode::Required, "`--engine-name`: `mysql`, `mariadb`, `postgres`, ...")),
            force(attr("major_engine_version", Type::Str, Mode::Required, "`--major-engine-version`, e.g. `8.0`.")),
            force(default(
                attr("option_group_description", Type::Str, Mode::Optional, "`--option-group-description`; AWS cannot change it later."),
                Default::Str("Managed by trellis"),
            )),
            default(
                attr("options", Type::Set(&Type::Object(&OPTION)), Mode::Optional, "The options it holds, each with its settings."),
                Default::EmptyList,
            ),
            TAGS,
            ARN,
            RDS_NAME_ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_db_option_group")],
    create_call: Some(("rds", "CreateOptionGroup")),
    id_is: Some(("option_group_name", true)),
    ..BASE
};
