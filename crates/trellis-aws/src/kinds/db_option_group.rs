//! `db_option_group`: its options are put after the create and changed as a whole set
//! (`ModifyOptionGroup` includes the new or changed ones and removes the dropped ones,
//! applied at once). Read and tagged as RDS's other groups are (`service/rds.rs`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_rds::operation::create_option_group::builders::CreateOptionGroupFluentBuilder;
use aws_sdk_rds::types::{OptionConfiguration, OptionGroup, OptionSetting};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::rds::*;
use crate::service::Service;
use crate::util::{
    aws_err, create_named, delete_with_retry, described_with, is_code, list_attr, opt_str, pages_with, str_attr,
    Described, Select, NOT_FOUND,
};

/// The AWS side of `db_option_group`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::RDS
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let groups = groups_of(aws, sel, |name| async move {
            let stream = aws.rds.describe_option_groups().set_option_group_name(name).max_records(100);
            let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
            Ok(pages
                .iter()
                .flat_map(|p| p.option_groups_list())
                .map(|g| {
                    let n = g.option_group_name().unwrap_or_default().to_string();
                    (n, g.option_group_arn().unwrap_or_default().to_string(), g.clone())
                })
                .collect())
        })
        .await?;
        Ok(groups
            .into_iter()
            .map(|(g, tags)| described_with(g.option_group_name().unwrap_or_default(), tags, observe(&g)))
            .collect())
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create_named(c, "option_group_name", |name| async move {
            aws.call(Call::Rds).await;
            let out = request(aws.once.rds.create_option_group(), c, name).send().await.map_err(aws_err)?;
            out.option_group()
                .and_then(|g| g.option_group_name())
                .map(str::to_string)
                .ok_or_else(|| ProviderError::new(None, "CreateOptionGroup returned no name"))
        })
        .await
    }
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        put_options(aws, id, &Attrs::new(), attrs).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        put_options(aws, id, before, after).await?;
        sync_tags(aws, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::Rds).await;
            match aws.rds.delete_option_group().option_group_name(id).send().await.map_err(aws_err) {
                Err(e) if is_code(&e, NOT_FOUND) => Ok(()),
                other => other.map(|_| ()),
            }
        })
        .await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Reference
    }
}

/// The options as the spec writes them.
fn options_value(g: &OptionGroup) -> Value {
    let mut list: Vec<Value> = g
        .options()
        .iter()
        .map(|o| {
            let mut m = BTreeMap::new();
            m.insert("option_name".to_string(), opt_str(o.option_name()));
            if let Some(p) = o.port() {
                m.insert("port".to_string(), Value::Int(p.into()));
            }
            if let Some(v) = o.option_version() {
                m.insert("option_version".to_string(), Value::str(v));
            }
            let mut groups: Vec<Value> =
                o.vpc_security_group_memberships().iter().filter_map(|g| g.vpc_security_group_id()).map(Value::str).collect();
            normalize_set(&mut groups);
            m.insert("vpc_security_group_memberships".to_string(), Value::List(groups));
            let settings: BTreeMap<String, Value> = o
                .option_settings()
                .iter()
                .filter_map(|s| Some((s.name()?.to_string(), Value::str(s.value().unwrap_or("")))))
                .collect();
            m.insert("option_settings".to_string(), Value::Map(settings));
            Value::Map(m)
        })
        .collect();
    normalize_set(&mut list);
    Value::List(list)
}

fn observe(g: &OptionGroup) -> Vec<(&'static str, Value)> {
    vec![
        ("option_group_name", opt_str(g.option_group_name())),
        ("engine_name", opt_str(g.engine_name())),
        ("major_engine_version", opt_str(g.major_engine_version())),
        ("option_group_description", opt_str(g.option_group_description())),
        ("options", options_value(g)),
        ("arn", opt_str(g.option_group_arn())),
    ]
}

fn request(b: CreateOptionGroupFluentBuilder, c: &Create<'_>, name: String) -> CreateOptionGroupFluentBuilder {
    b.option_group_name(lower(name))
        .engine_name(str_attr(c.attrs, "engine_name").unwrap_or_default())
        .major_engine_version(str_attr(c.attrs, "major_engine_version").unwrap_or_default())
        .option_group_description(str_attr(c.attrs, "option_group_description").unwrap_or("Managed by trellis"))
        .set_tags(Some(rds_tags(c.stack, c.address, c.attrs.get("tags"))))
}

/// Options by name.
fn by_name(attrs: &Attrs) -> BTreeMap<String, &BTreeMap<String, Value>> {
    list_attr(attrs, "options")
        .iter()
        .filter_map(Value::as_map)
        .filter_map(|m| Some((m.get("option_name")?.as_str()?.to_string(), m)))
        .collect()
}

fn configuration(m: &BTreeMap<String, Value>) -> OptionConfiguration {
    let settings: Vec<OptionSetting> = m
        .get("option_settings")
        .and_then(Value::as_map)
        .into_iter()
        .flatten()
        .map(|(k, v)| OptionSetting::builder().name(k).set_value(v.as_str().map(str::to_string)).build())
        .collect();
    let groups: Vec<String> = m
        .get("vpc_security_group_memberships")
        .map(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    OptionConfiguration::builder()
        .set_option_name(m.get("option_name").and_then(Value::as_str).map(str::to_string))
        .set_port(m.get("port").and_then(Value::as_int).map(|p| p as i32))
        .set_option_version(m.get("option_version").and_then(Value::as_str).map(str::to_string))
        .set_vpc_security_group_memberships(Some(groups).filter(|g| !g.is_empty()))
        .set_option_settings(Some(settings).filter(|s| !s.is_empty()))
        .build()
}

/// Includes the options `after` adds or changes and removes those it drops, at once.
async fn put_options(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let (was, want) = (by_name(before), by_name(after));
    let include: Vec<OptionConfiguration> =
        want.iter().filter(|(n, o)| was.get(*n) != Some(*o)).map(|(_, o)| configuration(o)).collect();
    let remove: Vec<String> = was.keys().filter(|n| !want.contains_key(*n)).cloned().collect();
    if include.is_empty() && remove.is_empty() {
        return Ok(());
    }
    aws.call(Call::Rds).await;
    aws.rds
        .modify_option_group()
        .option_group_name(id)
        .set_options_to_include(Some(include).filter(|i| !i.is_empty()))
        .set_options_to_remove(Some(remove).filter(|r| !r.is_empty()))
        .apply_immediately(true)
        .send()
        .await
        .map_err(aws_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::VpcSecurityGroupMembership;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &["option_group_name", "engine_name", "major_engine_version", "option_group_description", "options", "tags"];

    proptest! {
        /// What the create and the options' include send comes back in the group's
        /// description.
        #[test]
        fn an_option_group_comes_back_as_it_was_made(attrs in roundtrip::attrs("db_option_group", ALL, vec![])) {
            let address = roundtrip::address("db_option_group");
            // Options are known by their names: two of one name are one option.
            let names: Vec<String> = by_name(&attrs).into_keys().collect();
            prop_assume!(names.len() == list_attr(&attrs, "options").len());
            let name = str_attr(&attrs, "option_group_name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::rds().create_option_group(), &roundtrip::create(&address, &attrs), name.clone());
            let i = sent.as_input();
            let options: Vec<aws_sdk_rds::types::Option> = by_name(&attrs)
                .values()
                .map(|o| configuration(o))
                .map(|c| {
                    aws_sdk_rds::types::Option::builder()
                        .set_option_name(c.option_name().map(str::to_string))
                        .set_port(c.port())
                        .set_option_version(c.option_version().map(str::to_string))
                        .set_vpc_security_group_memberships(Some(
                            c.vpc_security_group_memberships()
                                .iter()
                                .map(|g| VpcSecurityGroupMembership::builder().vpc_security_group_id(g).build())
                                .collect(),
                        ))
                        .set_option_settings(Some(c.option_settings().to_vec()))
                        .build()
                })
                .collect();
            let answer = OptionGroup::builder()
                .set_option_group_name(i.get_option_group_name().clone())
                .set_engine_name(i.get_engine_name().clone())
                .set_major_engine_version(i.get_major_engine_version().clone())
                .set_option_group_description(i.get_option_group_description().clone())
                .set_options(Some(options))
                .build();
            let tags = tag_map(i.get_tags().as_deref().unwrap_or_default());
            let mut back = described_with(&name, tags, observe(&answer)).attrs;
            if !attrs.contains_key("option_group_name") {
                back.remove("option_group_name");
            }
            let mut sent_attrs = attrs.clone();
            // Each option as AWS keeps it: the defaults filled in, values as text.
            let filled: Vec<Value> = list_attr(&attrs, "options")
                .iter()
                .map(|o| {
                    let mut m = o.as_map().cloned().unwrap_or_default();
                    m.entry("vpc_security_group_memberships".into()).or_insert(Value::List(vec![]));
                    m.entry("option_settings".into()).or_insert(Value::Map(BTreeMap::new()));
                    Value::Map(m)
                })
                .collect();
            let mut filled = filled;
            normalize_set(&mut filled);
            sent_attrs.insert("options".into(), Value::List(filled));
            gives_back(&sent_attrs, &back, ALL)?;
        }
    }
}
