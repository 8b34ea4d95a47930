//! `egress_only_internet_gateway`: made in its VPC with the create's token, tagged at
//! create, read by the stack's tag or by id.

use async_trait::async_trait;
use aws_sdk_ec2::operation::create_egress_only_internet_gateway::builders::CreateEgressOnlyInternetGatewayFluentBuilder;
use aws_sdk_ec2::types::{EgressOnlyInternetGateway, Filter, ResourceType};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::util::{aws_err, delete_with_retry, described, str_attr, tag_spec, Described, Select};
use crate::TAG_STACK;

/// The AWS side of `egress_only_internet_gateway`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        // Its describe takes ids apart and no id filter.
        let call = aws.ec2.describe_egress_only_internet_gateways();
        let call = match sel {
            Select::Stack(stack) => call.filters(Filter::builder().name(format!("tag:{TAG_STACK}")).values(stack).build()),
            Select::Ids(ids) => call.set_egress_only_internet_gateway_ids(Some(ids.to_vec())),
        };
        let pages = crate::util::pages(aws, call.into_paginator().send()).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.egress_only_internet_gateways())
            .map(|g| described(g.egress_only_internet_gateway_id().unwrap_or_default(), g.tags(), observe(g)))
            .collect())
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        aws.call(crate::limits::Call::Mutate).await;
        let out = request(aws.once.ec2.create_egress_only_internet_gateway(), c).send().await.map_err(aws_err)?;
        out.egress_only_internet_gateway()
            .and_then(|g| g.egress_only_internet_gateway_id())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateEgressOnlyInternetGateway returned no id"))
    }
    /// Its VPC is fixed: nothing but tags changes in place.
    async fn update(&self, _aws: &Aws, _id: &str, _before: &Attrs, _after: &Attrs) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete_with_retry(aws, address, id, || async {
            aws.call(crate::limits::Call::Mutate).await;
            let call = aws.ec2.delete_egress_only_internet_gateway().egress_only_internet_gateway_id(id);
            call.send().await.map(|_| ()).map_err(aws_err)
        })
        .await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// The gateways attached to the VPC (the describe has no VPC filter).
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.ec2.describe_egress_only_internet_gateways().into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.egress_only_internet_gateways())
            .filter(|g| g.attachments().iter().any(|a| a.vpc_id() == Some(vpc.vpc)))
            .filter_map(|g| g.egress_only_internet_gateway_id())
            .map(str::to_string)
            .collect())
    }
}

fn observe(g: &EgressOnlyInternetGateway) -> Vec<(&'static str, Value)> {
    vec![("vpc_id", g.attachments().iter().find_map(|a| a.vpc_id()).map(Value::str).unwrap_or(Value::Null))]
}

fn request(b: CreateEgressOnlyInternetGatewayFluentBuilder, c: &Create<'_>) -> CreateEgressOnlyInternetGatewayFluentBuilder {
    b.set_vpc_id(str_attr(c.attrs, "vpc_id").map(str::to_string))
        .client_token(c.token)
        .tag_specifications(tag_spec(ResourceType::EgressOnlyInternetGateway, c.stack, c.address, c.attrs.get("tags")))
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::InternetGatewayAttachment;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_gateway_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("egress_only_internet_gateway", &["vpc_id", "tags"], vec![]),
        ) {
            let address = roundtrip::address("egress_only_internet_gateway");
            let sent = request(roundtrip::ec2().create_egress_only_internet_gateway(), &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            let answer = EgressOnlyInternetGateway::builder()
                .set_attachments(Some(input.get_vpc_id().iter().map(|v| InternetGatewayAttachment::builder().vpc_id(v).build()).collect()))
                .set_tags(Some(roundtrip::ec2_tags(input.get_tag_specifications())))
                .build();
            let back = described("eigw-1", answer.tags(), observe(&answer)).attrs;
            gives_back(&attrs, &back, &["vpc_id", "tags"])?;
        }
    }
}
