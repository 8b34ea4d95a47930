//! `iam_instance_profile`: a profile holding at most one role. IAM's paths, tags and
//! consistency: `crate::service::iam`.

use async_trait::async_trait;
use aws_sdk_iam::operation::create_instance_profile::builders::CreateInstanceProfileFluentBuilder;
use aws_sdk_iam::types::InstanceProfile;
use futures_util::future::try_join_all;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::service::iam::*;
use crate::util::{
    all_tags, aws_err, create_named, delete_with_retry, described_with, is_code, opt_str, pages_with, read_listed,
    str_attr, Described, Select,
};

/// The AWS side of `iam_instance_profile`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::IAM_PROFILES
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        configure(aws, id, attrs).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Reference
    }
}

async fn profile_names(aws: &Aws, sel: Select<'_>) -> Result<Vec<String>, ProviderError> {
    match sel {
        Select::Ids(ids) => Ok(ids.to_vec()),
        Select::Stack(stack) => {
            let call = aws.iam.list_instance_profiles().path_prefix(stack_path(stack)).into_paginator().send();
            let pages = pages_with(aws, Call::Iam, call).await?;
            Ok(pages
                .iter()
                .flat_map(|p| p.instance_profiles())
                .map(|p| p.instance_profile_name().to_string())
                .collect())
        }
    }
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let names = profile_names(aws, sel).await?;
    let listed = matches!(sel, Select::Stack(_));
    let found = try_join_all(names.iter().map(|n| read_profile(aws, n, listed))).await?;
    Ok(found
        .into_iter()
        .flatten()
        .map(|p| described_with(p.instance_profile_name(), tag_map(p.tags()), observe(&p)))
        .collect())
}

/// One profile, with its tags (a listing leaves them out); `listed` as for roles.
async fn read_profile(aws: &Aws, name: &str, listed: bool) -> Result<Option<InstanceProfile>, ProviderError> {
    let get = || async {
        aws.call(Call::Iam).await;
        aws.iam.get_instance_profile().instance_profile_name(name).send().await.map_err(aws_err)
    };
    let got = if listed { read_listed(get).await } else { get().await };
    Ok(absent(got)?.and_then(|o| o.instance_profile))
}

fn observe(p: &InstanceProfile) -> Vec<(&'static str, Value)> {
    vec![
        ("instance_profile_name", Value::str(p.instance_profile_name())),
        ("role_name", opt_str(p.roles().first().map(|r| r.role_name()))),
        ("arn", Value::str(p.arn())),
        ("path", Value::str(p.path())),
    ]
}

fn request(b: CreateInstanceProfileFluentBuilder, c: &Create<'_>, name: String) -> CreateInstanceProfileFluentBuilder {
    b.instance_profile_name(name).path(stack_path(c.stack)).set_tags(Some(iam_tags(all_tags(
        c.stack,
        c.address,
        c.attrs.get("tags"),
    ))))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "instance_profile_name", |name| async move {
        aws.call(Call::Iam).await;
        let out = request(aws.once.iam.create_instance_profile(), c, name).send().await.map_err(aws_err)?;
        Ok(out.instance_profile().map(|p| p.instance_profile_name().to_string()).unwrap_or_default())
    })
    .await
}

/// After the create: its role.
pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    update(aws, id, &Attrs::new(), attrs).await
}

/// A profile holds one role at most: the old one leaves before the new one comes.
pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let want = str_attr(after, "role_name");
    if str_attr(before, "role_name") == want {
        return Ok(());
    }
    if let Some(old) = str_attr(before, "role_name") {
        aws.call(Call::Iam).await;
        let r = aws.iam.remove_role_from_instance_profile().instance_profile_name(id).role_name(old).send().await;
        absent(r.map_err(aws_err))?;
    }
    if let Some(role) = want {
        aws.call(Call::Iam).await;
        let r = aws.iam.add_role_to_instance_profile().instance_profile_name(id).role_name(role).send().await;
        match r.map_err(aws_err) {
            // A profile holds one role: sent again after a lost answer, the add finds
            // the role there already, which is what was asked.
            Err(e) if is_code(&e, &["LimitExceeded"]) => {
                let holds = read_profile(aws, id, false)
                    .await?
                    .is_some_and(|p| p.roles().iter().any(|r| r.role_name() == role));
                if !holds {
                    return Err(e);
                }
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Lets its roles go (IAM refuses to delete a profile that holds one), then deletes it.
pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    let Some(now) = read_profile(aws, id, false).await? else { return Ok(()) };
    for role in now.roles() {
        aws.call(Call::Iam).await;
        let r = aws.iam.remove_role_from_instance_profile().instance_profile_name(id).role_name(role.role_name());
        absent(r.send().await.map_err(aws_err))?;
    }
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Iam).await;
        aws.iam.delete_instance_profile().instance_profile_name(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::types::Role;
    use aws_smithy_types::DateTime;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_profile_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("iam_instance_profile", &["instance_profile_name", "role_name", "tags"], vec![]),
        ) {
            let address = roundtrip::address("iam_instance_profile");
            let name = str_attr(&attrs, "instance_profile_name").unwrap_or("generated").to_string();
            let client = roundtrip::iam();
            let sent = request(client.create_instance_profile(), &roundtrip::create(&address, &attrs), name.clone());
            let i = sent.as_input();
            // The role is the one `configure` adds.
            let roles = str_attr(&attrs, "role_name").map(|r| {
                Role::builder()
                    .role_name(r)
                    .path("/")
                    .role_id("AROA1")
                    .arn("arn:aws:iam::123456789012:role/x")
                    .create_date(DateTime::from_secs(0))
                    .build()
                    .unwrap()
            });
            let answer = InstanceProfile::builder()
                .instance_profile_name(name)
                .path(i.get_path().clone().unwrap_or_default())
                .instance_profile_id("AIPA1")
                .arn("arn:aws:iam::123456789012:instance-profile/x")
                .create_date(DateTime::from_secs(0))
                .set_roles(Some(roles.into_iter().collect()))
                .set_tags(i.get_tags().clone())
                .build()
                .unwrap();
            let mut back = described_with("p", tag_map(answer.tags()), observe(&answer)).attrs;
            if !attrs.contains_key("instance_profile_name") {
                back.remove("instance_profile_name"); // generated
            }
            gives_back(&attrs, &back, &["instance_profile_name", "role_name", "tags"])?;
        }
    }
}
