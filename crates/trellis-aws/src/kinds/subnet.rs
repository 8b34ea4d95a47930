//! `subnet`: created and waited for until available; `map_public_ip_on_launch` is set
//! with `modify-subnet-attribute`.

use async_trait::async_trait;
use aws_sdk_ec2::operation::create_subnet::builders::CreateSubnetFluentBuilder;
use aws_sdk_ec2::operation::modify_subnet_attribute::builders::ModifySubnetAttributeFluentBuilder;
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Subnet, SubnetState};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::progress::Until;
use crate::util::Described;
use crate::util::{aws_err, bool_attr, delete_with_retry, described, opt_str, retry_until, str_attr, tag_spec, Select};

/// The AWS side of `subnet`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
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
        FoundBy::Listing
    }
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.ec2.describe_subnets().filters(vpc.filter("vpc-id")).into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages.iter().flat_map(|p| p.subnets()).filter_map(|s| s.subnet_id()).map(str::to_string).collect())
    }
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let pages =
        crate::util::pages(aws, aws.ec2.describe_subnets().filters(sel.filter("subnet-id")).into_paginator().send())
            .await?;
    let mut out = Vec::new();
    for page in pages {
        for s in page.subnets.unwrap_or_default() {
            out.push(described(s.subnet_id().unwrap_or_default(), s.tags(), observe(&s)));
        }
    }
    Ok(out)
}

fn observe(s: &Subnet) -> Vec<(&'static str, Value)> {
    vec![
        ("vpc_id", opt_str(s.vpc_id())),
        ("cidr_block", opt_str(s.cidr_block())),
        ("availability_zone", opt_str(s.availability_zone())),
        ("map_public_ip_on_launch", Value::Bool(s.map_public_ip_on_launch().unwrap_or(false))),
    ]
}

fn request(b: CreateSubnetFluentBuilder, c: &Create<'_>) -> CreateSubnetFluentBuilder {
    b.set_vpc_id(str_attr(c.attrs, "vpc_id").map(str::to_string))
        .set_cidr_block(str_attr(c.attrs, "cidr_block").map(str::to_string))
        .set_availability_zone(str_attr(c.attrs, "availability_zone").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::Subnet, c.stack, c.address, c.attrs.get("tags")))
}

/// The change `map_public_ip_on_launch` asks for, when it differs from `before`.
fn public_ip_change(
    b: ModifySubnetAttributeFluentBuilder,
    before: &Attrs,
    after: &Attrs,
) -> Option<ModifySubnetAttributeFluentBuilder> {
    let want = bool_attr(after, "map_public_ip_on_launch");
    (want.is_some() && want != bool_attr(before, "map_public_ip_on_launch"))
        .then(|| b.map_public_ip_on_launch(AttributeBooleanValue::builder().set_value(want).build()))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(crate::limits::Call::Mutate).await;
    let out = request(aws.once.ec2.create_subnet(), c).send().await.map_err(aws_err)?;
    out.subnet()
        .and_then(|s| s.subnet_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateSubnet returned no id"))
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    retry_until(aws, aws.timeouts.ready, id, Until::Available, || async {
        aws.call(crate::limits::Call::Describe).await;
        let out = aws.ec2.describe_subnets().subnet_ids(id).send().await.map_err(aws_err)?;
        Ok(out.subnets().first().filter(|s| s.state() == Some(&SubnetState::Available)).map(|_| ()))
    })
    .await?;
    let defaults: Attrs = [("map_public_ip_on_launch".to_string(), Value::Bool(false))].into_iter().collect();
    update(aws, id, &defaults, attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    if let Some(call) = public_ip_change(aws.ec2.modify_subnet_attribute().subnet_id(id), before, after) {
        aws.call(crate::limits::Call::Mutate).await;
        call.send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(crate::limits::Call::Mutate).await;
        aws.ec2.delete_subnet().subnet_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const SENT: &[&str] = &["vpc_id", "cidr_block", "availability_zone", "tags"];

    proptest! {
        #[test]
        fn a_subnet_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("subnet", &["vpc_id", "cidr_block", "availability_zone", "tags", "map_public_ip_on_launch"], vec![]),
        ) {
            let address = roundtrip::address("subnet");
            let sent = request(roundtrip::ec2().create_subnet(), &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            // The public-address setting is a second call, from AWS's default (off).
            let off = roundtrip::collect(vec![("map_public_ip_on_launch", Value::Bool(false))]);
            let public = public_ip_change(roundtrip::ec2().modify_subnet_attribute(), &off, &attrs)
                .and_then(|m| m.as_input().get_map_public_ip_on_launch().as_ref().and_then(|v| v.value()));
            let answer = Subnet::builder()
                .set_vpc_id(input.get_vpc_id().clone())
                .set_cidr_block(input.get_cidr_block().clone())
                .set_availability_zone(input.get_availability_zone().clone())
                .set_map_public_ip_on_launch(public.or(Some(false)))
                .set_tags(Some(roundtrip::ec2_tags(input.get_tag_specifications())))
                .build();
            let back = described("subnet-1", answer.tags(), observe(&answer)).attrs;
            gives_back(&attrs, &back, SENT)?;
            let public = attrs.get("map_public_ip_on_launch").cloned().unwrap_or(Value::Bool(false));
            prop_assert_eq!(&back["map_public_ip_on_launch"], &public);
        }
    }
}
