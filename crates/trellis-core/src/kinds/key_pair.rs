//! The schema of `key_pair`; its AWS side is `trellis-aws/src/kinds/key_pair.rs`.

use super::{attr, file_of, force, limit, terraform, write_only, BASE, GENERATED_IAM_NAME, IAM_NAME_ID, PROTECT, TAGS, tf};
use crate::schema::{Kind, Mode, Object, Type};
use crate::Attrs;

fn check_key_pair(attrs: &Attrs) -> Option<(&'static str, String)> {
    (!attrs.contains_key("public_key_material") && !attrs.contains_key("public_key_material_file")).then(|| {
        (
            "key_name",
            "a key pair needs its public key: give `public_key_material_file: KEY.pub` (or `public_key_material`)"
                .into(),
        )
    })
}

pub static KEY_PAIR: Kind = Kind {
    name: "key_pair",
    doc: "An EC2 key pair made from a public key you hold (`aws ec2 import-key-pair`); trellis never makes or stores a private key. Instances and launch templates name it in `key_name: ${key_pair.NAME}`. AWS keeps the key but not always as it was given, so trellis compares the key the state recorded, and `key_fingerprint` shows what AWS holds. A new key replaces the key pair and, since a key reaches an instance only at launch, the instances that name it by `${key_pair.NAME}`; with `key_name` fixed, `${key_pair.NAME.key_name}` keeps them. Its id is its name.",
    id_prefix: "",
    generated_name: Some("key_name"),
    object: Object {
        check: Some(check_key_pair),
        other_names: &[terraform("public_key", "public_key_material")],
        attrs: &[
            force(limit(attr("key_name", Type::Str, Mode::OptionalComputed, GENERATED_IAM_NAME), 255)),
            force(write_only(attr(
                "public_key_material",
                Type::Str,
                Mode::Optional,
                "The public key in OpenSSH form (`ssh-ed25519 AAAA...`, `ssh-rsa AAAA...`); a new key replaces the key pair. Or give `public_key_material_file`.",
            ))),
            file_of(
                attr(
                    "public_key_material_file",
                    Type::Str,
                    Mode::Optional,
                    "A file holding the public key (`~/.ssh/id_ed25519.pub` copied next to the spec), relative to the spec.",
                ),
                "public_key_material",
            ),
            TAGS,
            attr("key_fingerprint", Type::Str, Mode::Computed, "The fingerprint AWS computed."),
            attr("key_pair_id", Type::Str, Mode::Computed, "AWS's id of the key pair (`key-...`)."),
            attr("key_type", Type::Str, Mode::Computed, "`rsa` or `ed25519`."),
            IAM_NAME_ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_key_pair")],
    create_call: Some(("ec2", "ImportKeyPair")),
    id_is: Some(("key_name", false)),
    ..BASE
};
