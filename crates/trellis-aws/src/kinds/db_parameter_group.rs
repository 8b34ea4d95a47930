//! `db_parameter_group`: its user parameters are set after the create, immediately
//! where the engine allows and at the next reboot otherwise.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_rds::operation::create_db_parameter_group::builders::CreateDBParameterGroupFluentBuilder;
use aws_sdk_rds::types::{ApplyMethod, DbParameterGroup, Parameter};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::service::rds::*;
use crate::util::{
    aws_err, create_named, delete_with_retry, described_with, is_code, opt_str, pages_with, str_attr, Described,
    Select, NOT_FOUND,
};

/// The AWS side of `db_parameter_group`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::RDS
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
    /// Tags too: RDS tags by ARN.
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

/// The parameters a user set in a group (not the engine's defaults).
async fn user_parameters(aws: &Aws, name: &str) -> Result<BTreeMap<String, Value>, ProviderError> {
    let stream = aws.rds.describe_db_parameters().db_parameter_group_name(name).source("user").max_records(100);
    let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.parameters())
        .filter(|p| p.source().is_none_or(|s| s == "user"))
        .filter_map(|p| Some((p.parameter_name()?.to_string(), Value::str(p.parameter_value()?))))
        .collect())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let groups = groups_of(aws, sel, |name| async move {
        let stream = aws.rds.describe_db_parameter_groups().set_db_parameter_group_name(name).max_records(100);
        let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.db_parameter_groups())
            .map(|g| {
                let n = g.db_parameter_group_name().unwrap_or_default().to_string();
                (n, g.db_parameter_group_arn().unwrap_or_default().to_string(), g.clone())
            })
            .collect())
    })
    .await?;
    let mut out = Vec::new();
    for (g, tags) in groups {
        let name = g.db_parameter_group_name().unwrap_or_default();
        // One group's parameters per call (paginated): AWS offers no batch.
        let params = user_parameters(aws, name).await?;
        out.push(described_with(name, tags, observe(&g, params)));
    }
    Ok(out)
}

fn observe(g: &DbParameterGroup, params: BTreeMap<String, Value>) -> Vec<(&'static str, Value)> {
    vec![
        ("db_parameter_group_name", opt_str(g.db_parameter_group_name())),
        ("db_parameter_group_family", opt_str(g.db_parameter_group_family())),
        ("description", opt_str(g.description())),
        ("parameters", Value::Map(params)),
        ("arn", opt_str(g.db_parameter_group_arn())),
    ]
}

fn request(
    b: CreateDBParameterGroupFluentBuilder,
    c: &Create<'_>,
    name: String,
) -> CreateDBParameterGroupFluentBuilder {
    b.db_parameter_group_name(lower(name))
        .db_parameter_group_family(str_attr(c.attrs, "db_parameter_group_family").unwrap_or_default())
        .description(str_attr(c.attrs, "description").unwrap_or("Managed by trellis"))
        .set_tags(Some(rds_tags(c.stack, c.address, c.attrs.get("tags"))))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "db_parameter_group_name", |name| async move {
        aws.call(Call::Rds).await;
        let out = request(aws.once.rds.create_db_parameter_group(), c, name).send().await.map_err(aws_err)?;
        out.db_parameter_group()
            .and_then(|g| g.db_parameter_group_name())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateDBParameterGroup returned no name"))
    })
    .await
}

fn params_of(attrs: &Attrs) -> BTreeMap<String, String> {
    crate::util::tag_map(attrs.get("parameters"))
}

fn parameter(name: &str, value: Option<&str>, method: ApplyMethod) -> Parameter {
    Parameter::builder()
        .parameter_name(name)
        .set_parameter_value(value.map(str::to_string))
        .apply_method(method)
        .build()
}

/// AWS refuses `immediate` for a static parameter; it says so in the message.
fn is_static_refusal(e: &ProviderError) -> bool {
    is_code(e, &["InvalidParameterCombination", "InvalidParameterValue"]) && e.message.to_lowercase().contains("static")
}

/// Sets (or, with `reset`, resets) parameters, at most 20 a call as AWS allows: each
/// applies at once where AWS allows it, else at the next reboot (static parameters).
async fn set_parameters(
    aws: &Aws,
    group: &str,
    items: &[(String, Option<String>)],
    reset: bool,
) -> Result<(), ProviderError> {
    let send = |batch: Vec<Parameter>| async move {
        aws.call(Call::Rds).await;
        if reset {
            aws.rds
                .reset_db_parameter_group()
                .db_parameter_group_name(group)
                .reset_all_parameters(false)
                .set_parameters(Some(batch))
                .send()
                .await
                .map(|_| ())
                .map_err(aws_err)
        } else {
            aws.rds
                .modify_db_parameter_group()
                .db_parameter_group_name(group)
                .set_parameters(Some(batch))
                .send()
                .await
                .map(|_| ())
                .map_err(aws_err)
        }
    };
    for chunk in items.chunks(20) {
        let batch = chunk.iter().map(|(k, v)| parameter(k, v.as_deref(), ApplyMethod::Immediate)).collect();
        match send(batch).await {
            Ok(()) => {}
            // Some are static: one at a time, each immediate if AWS allows it.
            Err(e) if is_static_refusal(&e) => {
                for (k, v) in chunk {
                    match send(vec![parameter(k, v.as_deref(), ApplyMethod::Immediate)]).await {
                        Err(e) if is_static_refusal(&e) => {
                            send(vec![parameter(k, v.as_deref(), ApplyMethod::PendingReboot)]).await?
                        }
                        other => other?,
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let items: Vec<(String, Option<String>)> = params_of(attrs).into_iter().map(|(k, v)| (k, Some(v))).collect();
    set_parameters(aws, id, &items, false).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let (was, now) = (params_of(before), params_of(after));
    let set: Vec<(String, Option<String>)> =
        now.iter().filter(|(k, v)| was.get(*k) != Some(v)).map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
    let reset: Vec<(String, Option<String>)> =
        was.keys().filter(|k| !now.contains_key(*k)).map(|k| (k.clone(), None)).collect();
    set_parameters(aws, id, &set, false).await?;
    set_parameters(aws, id, &reset, true).await?;
    sync_tags(aws, before, after).await
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Rds).await;
        match aws.rds.delete_db_parameter_group().db_parameter_group_name(id).send().await.map_err(aws_err) {
            Err(e) if is_code(&e, NOT_FOUND) => Ok(()),
            other => other.map(|_| ()),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_parameter_group_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("db_parameter_group", &["db_parameter_group_name", "db_parameter_group_family", "description", "parameters", "tags"], vec![]),
        ) {
            let address = roundtrip::address("db_parameter_group");
            let name = str_attr(&attrs, "db_parameter_group_name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::rds().create_db_parameter_group(), &roundtrip::create(&address, &attrs), name.clone());
            let i = sent.as_input();
            let answer = DbParameterGroup::builder()
                .set_db_parameter_group_name(i.get_db_parameter_group_name().clone())
                .set_db_parameter_group_family(i.get_db_parameter_group_family().clone())
                .set_description(i.get_description().clone())
                .build();
            // The parameters as ModifyDBParameterGroup sends them, read back as the
            // user's source.
            let params: BTreeMap<String, Value> = params_of(&attrs)
                .iter()
                .map(|(k, v)| parameter(k, Some(v), ApplyMethod::Immediate))
                .filter_map(|p| Some((p.parameter_name()?.to_string(), Value::str(p.parameter_value()?))))
                .collect();
            let tags = tag_map(i.get_tags().as_deref().unwrap_or_default());
            let mut back = described_with(&name, tags, observe(&answer, params)).attrs;
            if !attrs.contains_key("db_parameter_group_name") {
                back.remove("db_parameter_group_name");
            }
            gives_back(&attrs, &back, &["db_parameter_group_name", "db_parameter_group_family", "description", "parameters", "tags"])?;
        }
    }
}
