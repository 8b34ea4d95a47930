//! `iam_role`, with its managed and inline policies. IAM's paths, tags and
//! consistency: `crate::service::iam`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_iam::operation::create_role::builders::CreateRoleFluentBuilder;
use aws_sdk_iam::types::Role;
use futures_util::future::try_join_all;
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::service::iam::*;
use crate::util::{
    all_tags, aws_err, create_named, delete_with_retry, described_with, document_json, document_value, list_attr,
    opt_int, opt_str, pages_with, read_listed, str_attr, Described, Select,
};

/// The AWS side of `iam_role`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::IAM_ROLES
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

/// The names of the roles a selection asks for.
async fn role_names(aws: &Aws, sel: Select<'_>) -> Result<Vec<String>, ProviderError> {
    match sel {
        Select::Ids(ids) => Ok(ids.to_vec()),
        Select::Stack(stack) => {
            let call = aws.iam.list_roles().path_prefix(stack_path(stack)).into_paginator().send();
            let pages = pages_with(aws, Call::Iam, call).await?;
            Ok(pages.iter().flat_map(|p| p.roles()).map(|r| r.role_name().to_string()).collect())
        }
    }
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let names = role_names(aws, sel).await?;
    let listed = matches!(sel, Select::Stack(_));
    let found = try_join_all(names.iter().map(|n| read_role(aws, n, listed))).await?;
    Ok(found.into_iter().flatten().collect())
}

/// One role with its policies: four reads and one per inline policy. A role a listing
/// has just shown (`listed`) that IAM's read does not show yet is asked again for a
/// few seconds before it counts as gone.
async fn read_role(aws: &Aws, name: &str, listed: bool) -> Result<Option<Described>, ProviderError> {
    let get = || async {
        aws.call(Call::Iam).await;
        aws.iam.get_role().role_name(name).send().await.map_err(aws_err)
    };
    let got = if listed { read_listed(get).await } else { get().await };
    let Some(out) = absent(got)? else {
        return Ok(None);
    };
    let Some(role) = out.role() else { return Ok(None) };
    let attached =
        pages_with(aws, Call::Iam, aws.iam.list_attached_role_policies().role_name(name).into_paginator().send()).await;
    let inline = pages_with(aws, Call::Iam, aws.iam.list_role_policies().role_name(name).into_paginator().send()).await;
    // Deleted between the calls: as if never listed.
    let (Some(attached), Some(inline)) = (absent(attached)?, absent(inline)?) else { return Ok(None) };
    let arns: Vec<String> = attached
        .iter()
        .flat_map(|p| p.attached_policies())
        .filter_map(|p| p.policy_arn())
        .map(str::to_string)
        .collect();
    let mut policies = BTreeMap::new();
    for policy in inline.iter().flat_map(|p| p.policy_names()) {
        aws.call(Call::Iam).await;
        let got = aws.iam.get_role_policy().role_name(name).policy_name(policy).send().await.map_err(aws_err);
        if let Some(got) = absent(got)? {
            policies.insert(policy.clone(), document_value(got.policy_document()));
        }
    }
    Ok(Some(described_with(role.role_name(), tag_map(role.tags()), observe(role, arns, policies))))
}

fn observe(role: &Role, arns: Vec<String>, policies: BTreeMap<String, Value>) -> Vec<(&'static str, Value)> {
    let mut arns: Vec<Value> = arns.into_iter().map(Value::Str).collect();
    normalize_set(&mut arns);
    vec![
        ("role_name", Value::str(role.role_name())),
        ("assume_role_policy_document", role.assume_role_policy_document().map(document_value).unwrap_or(Value::Null)),
        ("description", opt_str(role.description().filter(|d| !d.is_empty()))),
        ("max_session_duration", opt_int(role.max_session_duration())),
        ("policy_arns", Value::List(arns)),
        ("policies", Value::Map(policies)),
        ("arn", Value::str(role.arn())),
        ("path", Value::str(role.path())),
    ]
}

fn request(b: CreateRoleFluentBuilder, c: &Create<'_>, name: String) -> CreateRoleFluentBuilder {
    let attrs = c.attrs;
    b.role_name(name)
        .path(stack_path(c.stack))
        .set_assume_role_policy_document(attrs.get("assume_role_policy_document").map(document_json))
        .set_description(str_attr(attrs, "description").map(str::to_string))
        .set_max_session_duration(attrs.get("max_session_duration").and_then(Value::as_int).map(|i| i as i32))
        .set_tags(Some(iam_tags(all_tags(c.stack, c.address, attrs.get("tags")))))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "role_name", |name| async move {
        aws.call(Call::Iam).await;
        let out = request(aws.once.iam.create_role(), c, name).send().await.map_err(aws_err)?;
        Ok(out.role().map(|r| r.role_name().to_string()).unwrap_or_default())
    })
    .await
}

/// After the create: its policies.
pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    sync_policies(aws, id, &Attrs::new(), attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let trust = after.get("assume_role_policy_document");
    if trust.is_some() && before.get("assume_role_policy_document") != trust {
        aws.call(Call::Iam).await;
        aws.iam
            .update_assume_role_policy()
            .role_name(id)
            .set_policy_document(trust.map(document_json))
            .send()
            .await
            .map_err(aws_err)?;
    }
    if ["description", "max_session_duration"].iter().any(|a| before.get(*a) != after.get(*a)) {
        aws.call(Call::Iam).await;
        aws.iam
            .update_role()
            .role_name(id)
            // An empty description removes it.
            .description(str_attr(after, "description").unwrap_or_default())
            .set_max_session_duration(after.get("max_session_duration").and_then(Value::as_int).map(|i| i as i32))
            .send()
            .await
            .map_err(aws_err)?;
    }
    sync_policies(aws, id, before, after).await
}

/// Attaches and detaches managed policies, puts and deletes inline ones, from `before`
/// to `after`.
async fn sync_policies(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let (had, want) = (list_attr(before, "policy_arns"), list_attr(after, "policy_arns"));
    for arn in want.iter().filter(|a| !had.contains(a)).filter_map(Value::as_str) {
        aws.call(Call::Iam).await;
        aws.iam.attach_role_policy().role_name(id).policy_arn(arn).send().await.map_err(aws_err)?;
    }
    for arn in had.iter().filter(|a| !want.contains(a)).filter_map(Value::as_str) {
        aws.call(Call::Iam).await;
        let r = aws.iam.detach_role_policy().role_name(id).policy_arn(arn).send().await.map_err(aws_err);
        absent(r)?;
    }
    let empty = BTreeMap::new();
    let had = before.get("policies").and_then(Value::as_map).unwrap_or(&empty);
    let want = after.get("policies").and_then(Value::as_map).unwrap_or(&empty);
    for (name, doc) in want.iter().filter(|(n, d)| had.get(*n) != Some(*d)) {
        aws.call(Call::Iam).await;
        aws.iam
            .put_role_policy()
            .role_name(id)
            .policy_name(name)
            .policy_document(document_json(doc))
            .send()
            .await
            .map_err(aws_err)?;
    }
    for name in had.keys().filter(|n| !want.contains_key(*n)) {
        aws.call(Call::Iam).await;
        absent(aws.iam.delete_role_policy().role_name(id).policy_name(name).send().await.map_err(aws_err))?;
    }
    Ok(())
}

/// Takes it out of the profiles that hold it, detaches and deletes its policies (IAM
/// refuses to delete a role that has any of these), then deletes it. A role replaced
/// under the same name goes first, while its profile still holds it; the profile takes
/// the new role in its own update after.
pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    let Some(now) = read_role(aws, id, false).await? else { return Ok(()) };
    let holders =
        pages_with(aws, Call::Iam, aws.iam.list_instance_profiles_for_role().role_name(id).into_paginator().send())
            .await?;
    for profile in holders.iter().flat_map(|p| p.instance_profiles()) {
        aws.call(Call::Iam).await;
        let r = aws
            .iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile.instance_profile_name())
            .role_name(id)
            .send()
            .await;
        absent(r.map_err(aws_err))?;
    }
    sync_policies(aws, id, &now.attrs, &Attrs::new()).await?;
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Iam).await;
        aws.iam.delete_role().role_name(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_smithy_types::DateTime;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    /// A policy document as people write them: statements of strings and lists.
    fn document() -> BoxedStrategy<Value> {
        let statement = (
            prop::sample::select(vec!["Allow", "Deny"]),
            prop::collection::vec("[a-z0-9]{1,8}:[A-Z][A-Za-z]{0,10}", 1..3),
            "[a-z]{1,8}\\.amazonaws\\.com",
        )
            .prop_map(|(effect, actions, service)| {
                let mut principal = BTreeMap::new();
                principal.insert("Service".to_string(), Value::Str(service));
                let mut s = BTreeMap::new();
                s.insert("Effect".to_string(), Value::str(effect));
                s.insert("Action".to_string(), Value::List(actions.into_iter().map(Value::Str).collect()));
                s.insert("Principal".to_string(), Value::Map(principal));
                Value::Map(s)
            });
        prop::collection::vec(statement, 1..3)
            .prop_map(|statements| {
                let mut doc = BTreeMap::new();
                doc.insert("Version".to_string(), Value::str("2012-10-17"));
                doc.insert("Statement".to_string(), Value::List(statements));
                Value::Map(doc)
            })
            .boxed()
    }

    fn url_encoded(json: &str) -> String {
        percent_encoding::utf8_percent_encode(json, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    const ROLE: &[&str] = &[
        "role_name",
        "assume_role_policy_document",
        "description",
        "max_session_duration",
        "policy_arns",
        "policies",
        "tags",
    ];

    proptest! {
        #[test]
        fn a_role_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("iam_role", ROLE, vec![
                ("assume_role_policy_document", document()),
                ("max_session_duration", (3600i64..43_200).prop_map(Value::Int).boxed()),
                ("policy_arns", prop::collection::vec("arn:aws:iam::aws:policy/[A-Z][A-Za-z]{1,12}", 0..3)
                    .prop_map(|arns| {
                        let mut items: Vec<Value> = arns.into_iter().map(Value::Str).collect();
                        normalize_set(&mut items);
                        Value::List(items)
                    })
                    .boxed()),
                ("policies", prop::collection::btree_map("[a-z][a-z-]{0,8}", document(), 0..3).prop_map(Value::Map).boxed()),
            ]),
        ) {
            let address = roundtrip::address("iam_role");
            let name = str_attr(&attrs, "role_name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::iam().create_role(), &roundtrip::create(&address, &attrs), name.clone());
            let i = sent.as_input();
            // IAM gives documents back URL-encoded.
            let answer = Role::builder()
                .role_name(name)
                .path(i.get_path().clone().unwrap_or_default())
                .role_id("AROA1")
                .arn("arn:aws:iam::123456789012:role/x")
                .create_date(DateTime::from_secs(0))
                .set_assume_role_policy_document(i.get_assume_role_policy_document().as_deref().map(url_encoded))
                .set_description(i.get_description().clone())
                .set_max_session_duration(*i.get_max_session_duration())
                .set_tags(i.get_tags().clone())
                .build()
                .unwrap();
            // What the policy calls send: each ARN attached, each document put.
            let arns = list_attr(&attrs, "policy_arns").iter().filter_map(Value::as_str).map(str::to_string).collect();
            let policies = attrs
                .get("policies")
                .and_then(Value::as_map)
                .map(|m| m.iter().map(|(k, d)| (k.clone(), document_value(&url_encoded(&document_json(d))))).collect())
                .unwrap_or_default();
            let mut back = described_with("r", tag_map(answer.tags()), observe(&answer, arns, policies)).attrs;
            if !attrs.contains_key("role_name") {
                back.remove("role_name"); // generated
            }
            let mut want = attrs.clone();
            // Left out: no policies, and IAM's default session.
            want.entry("policy_arns".into()).or_insert(Value::List(vec![]));
            want.entry("policies".into()).or_insert(Value::Map(BTreeMap::new()));
            gives_back(&want, &back, ROLE)?;
        }
    }

    #[test]
    fn documents_are_read_plain_or_url_encoded() {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":3600},"Bool":{"aws:SecureTransport":true}}}]}"#;
        let plain = document_value(doc);
        assert_eq!(plain, document_value(&url_encoded(doc)));
        // Numbers and booleans come back as the text the spec writes them in.
        assert!(document_json(&plain).contains(r#""aws:MultiFactorAuthAge":"3600""#));
        assert_eq!(document_value("not json"), Value::str("not json"));
    }
}
