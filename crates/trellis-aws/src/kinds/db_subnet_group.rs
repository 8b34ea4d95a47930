//! `db_subnet_group`. RDS has no tag filters, and subnet groups come without their
//! tags: see `crate::service::rds` for how a stack's groups are read.

use async_trait::async_trait;
use aws_sdk_rds::operation::create_db_subnet_group::builders::CreateDBSubnetGroupFluentBuilder;
use aws_sdk_rds::types::DbSubnetGroup;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::service::rds::*;
use crate::util::{
    aws_err, create_named, delete_with_retry, described_with, is_code, list_attr, opt_str, pages_with, str_attr,
    Described, Select, NOT_FOUND,
};

/// The AWS side of `db_subnet_group`.
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
    /// Tags too: RDS tags by ARN.
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// The subnet groups whose VPC is this one.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.rds.describe_db_subnet_groups().into_paginator().send();
        let pages = pages_with(aws, Call::Rds, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.db_subnet_groups())
            .filter(|g| g.vpc_id() == Some(vpc.vpc))
            .filter_map(|g| g.db_subnet_group_name())
            .map(str::to_string)
            .collect())
    }
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let groups = groups_of(aws, sel, |name| async move {
        let stream = aws.rds.describe_db_subnet_groups().set_db_subnet_group_name(name).max_records(100);
        let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.db_subnet_groups())
            .map(|g| {
                let n = g.db_subnet_group_name().unwrap_or_default().to_string();
                (n, g.db_subnet_group_arn().unwrap_or_default().to_string(), g.clone())
            })
            .collect())
    })
    .await?;
    Ok(groups
        .into_iter()
        .map(|(g, tags)| described_with(g.db_subnet_group_name().unwrap_or_default(), tags, observe(&g)))
        .collect())
}

fn observe(g: &DbSubnetGroup) -> Vec<(&'static str, Value)> {
    let mut subnets: Vec<Value> = g.subnets().iter().filter_map(|s| s.subnet_identifier()).map(Value::str).collect();
    trellis_core::schema::normalize_set(&mut subnets);
    vec![
        ("db_subnet_group_name", opt_str(g.db_subnet_group_name())),
        ("db_subnet_group_description", opt_str(g.db_subnet_group_description())),
        ("subnet_ids", Value::List(subnets)),
        ("arn", opt_str(g.db_subnet_group_arn())),
    ]
}

fn request(b: CreateDBSubnetGroupFluentBuilder, c: &Create<'_>, name: String) -> CreateDBSubnetGroupFluentBuilder {
    b.db_subnet_group_name(lower(name))
        .db_subnet_group_description(str_attr(c.attrs, "db_subnet_group_description").unwrap_or("Managed by trellis"))
        .set_subnet_ids(Some(subnet_ids(c.attrs)))
        .set_tags(Some(rds_tags(c.stack, c.address, c.attrs.get("tags"))))
}

fn subnet_ids(attrs: &Attrs) -> Vec<String> {
    list_attr(attrs, "subnet_ids").iter().filter_map(Value::as_str).map(str::to_string).collect()
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "db_subnet_group_name", |name| async move {
        aws.call(Call::Rds).await;
        let out = request(aws.once.rds.create_db_subnet_group(), c, name).send().await.map_err(aws_err)?;
        out.db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateDBSubnetGroup returned no name"))
    })
    .await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    if before.get("db_subnet_group_description") != after.get("db_subnet_group_description")
        || before.get("subnet_ids") != after.get("subnet_ids")
    {
        aws.call(Call::Rds).await;
        aws.rds
            .modify_db_subnet_group()
            .db_subnet_group_name(id)
            .set_db_subnet_group_description(str_attr(after, "db_subnet_group_description").map(str::to_string))
            .set_subnet_ids(Some(subnet_ids(after)))
            .send()
            .await
            .map_err(aws_err)?;
    }
    sync_tags(aws, before, after).await
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    // A database being deleted holds its subnet group for a while.
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Rds).await;
        match aws.rds.delete_db_subnet_group().db_subnet_group_name(id).send().await.map_err(aws_err) {
            Err(e) if is_code(&e, NOT_FOUND) => Ok(()),
            other => other.map(|_| ()),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::Subnet;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_subnet_group_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("db_subnet_group", &["db_subnet_group_name", "db_subnet_group_description", "subnet_ids", "tags"], vec![]),
        ) {
            let address = roundtrip::address("db_subnet_group");
            let name = str_attr(&attrs, "db_subnet_group_name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::rds().create_db_subnet_group(), &roundtrip::create(&address, &attrs), name.clone());
            let i = sent.as_input();
            let subnets = i.get_subnet_ids().iter().flatten().map(|s| Subnet::builder().subnet_identifier(s).build());
            let answer = DbSubnetGroup::builder()
                .set_db_subnet_group_name(i.get_db_subnet_group_name().clone())
                .set_db_subnet_group_description(i.get_db_subnet_group_description().clone())
                .set_subnets(Some(subnets.collect()))
                .build();
            let tags = tag_map(i.get_tags().as_deref().unwrap_or_default());
            let mut back = described_with(&name, tags, observe(&answer)).attrs;
            if !attrs.contains_key("db_subnet_group_name") {
                back.remove("db_subnet_group_name");
            }
            gives_back(&attrs, &back, &["db_subnet_group_name", "db_subnet_group_description", "subnet_ids", "tags"])?;
        }
    }
}
