//! EC2 key pairs, imported from a public key (`ImportKeyPair`); known by name, which is
//! what instances and launch templates take. Tags go on the key pair's own id.

use async_trait::async_trait;
use aws_sdk_ec2::operation::import_key_pair::builders::ImportKeyPairFluentBuilder;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{KeyPairInfo, ResourceType};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::util::Described;
use crate::util::{aws_err, create_named, described, is_code, opt_str, str_attr, tag_spec, Select};

/// The AWS side of `key_pair`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    /// Everything but its tags replaces it.
    async fn update(&self, _aws: &Aws, _id: &str, _before: &Attrs, _after: &Attrs) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    async fn sync_tags(
        &self,
        aws: &Aws,
        id: &str,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        sync_tags(aws, id, before, after).await
    }
    async fn named(&self, aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
        super::by_name_as_id(self, aws, name).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Reference
    }
}

async fn key_pairs(aws: &Aws, sel: Select<'_>) -> Result<Vec<KeyPairInfo>, ProviderError> {
    aws.call(Call::Describe).await;
    let out = aws
        .ec2
        .describe_key_pairs()
        .filters(sel.filter("key-name"))
        .include_public_key(true)
        .send()
        .await
        .map_err(aws_err)?;
    Ok(out.key_pairs.unwrap_or_default())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = key_pairs(aws, sel).await?;
    Ok(found.iter().map(|k| described(k.key_name().unwrap_or_default(), k.tags(), observe(k))).collect())
}

fn observe(k: &KeyPairInfo) -> Vec<(&'static str, Value)> {
    vec![
        ("key_name", opt_str(k.key_name())),
        // Write-only: stands in only where the state has no key yet (an adoption).
        ("public_key_material", opt_str(k.public_key())),
        ("key_fingerprint", opt_str(k.key_fingerprint())),
        ("key_pair_id", opt_str(k.key_pair_id())),
        ("key_type", opt_str(k.key_type().map(|t| t.as_str()))),
    ]
}

fn request(b: ImportKeyPairFluentBuilder, c: &Create<'_>, name: String) -> ImportKeyPairFluentBuilder {
    b.key_name(name)
        .set_public_key_material(str_attr(c.attrs, "public_key_material").map(|k| Blob::new(k.as_bytes())))
        .tag_specifications(tag_spec(ResourceType::KeyPair, c.stack, c.address, c.attrs.get("tags")))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "key_name", |name| async move {
        aws.call(Call::Mutate).await;
        let out = request(aws.once.ec2.import_key_pair(), c, name.clone()).send().await.map_err(aws_err)?;
        Ok(out.key_name().map(str::to_string).unwrap_or(name))
    })
    .await
}

/// Tags are set on the key pair's id (`key-...`), not on its name.
pub(crate) async fn sync_tags(
    aws: &Aws,
    name: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let names = [name.to_string()];
    let found = key_pairs(aws, Select::Ids(&names)).await?;
    let Some(id) = found.first().and_then(|k| k.key_pair_id()) else {
        return Err(ProviderError::new(
            Some("InvalidKeyPair.NotFound"),
            format!("The key pair '{name}' does not exist"),
        ));
    };
    crate::util::sync_tags(aws, id, before, after).await
}

pub(crate) async fn delete(aws: &Aws, _address: &Address, name: &str) -> Result<(), ProviderError> {
    aws.call(Call::Mutate).await;
    match aws.ec2.delete_key_pair().key_name(name).send().await.map_err(aws_err) {
        Err(e) if !is_code(&e, crate::util::NOT_FOUND) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_key_pair_comes_back_as_it_was_imported(
            attrs in roundtrip::attrs("key_pair", &["key_name", "public_key_material", "tags"], vec![
                ("public_key_material", "ssh-ed25519 AAAAC3Nza[A-Za-z0-9+/]{20,40}( [a-z]{1,8}@[a-z]{1,8})?"
                    .prop_map(Value::Str).boxed()),
            ]),
        ) {
            let address = roundtrip::address("key_pair");
            let name = str_attr(&attrs, "key_name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::ec2().import_key_pair(), &roundtrip::create(&address, &attrs), name);
            let i = sent.as_input();
            let key = i.get_public_key_material().as_ref().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned());
            let answer = KeyPairInfo::builder()
                .set_key_name(i.get_key_name().clone())
                .set_public_key(key)
                .set_tags(Some(roundtrip::ec2_tags(i.get_tag_specifications())))
                .build();
            let mut back = described("k", answer.tags(), observe(&answer)).attrs;
            if !attrs.contains_key("key_name") {
                back.remove("key_name");
            }
            gives_back(&attrs, &back, &["key_name", "public_key_material", "tags"])?;
        }
    }
}
