//! `nat_gateway`: create, wait until available; delete, wait until deleted (its
//! address and subnet are held until then).

use async_trait::async_trait;
use aws_sdk_ec2::operation::create_nat_gateway::builders::CreateNatGatewayFluentBuilder;
use aws_sdk_ec2::types::{NatGateway, NatGatewayState, ResourceType};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::limits::Call;
use crate::progress::Until;
use crate::util::Described;
use crate::util::{aws_err, delete_with_retry, described, opt_str, retry_until, str_attr, tag_spec, Select};

pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    async fn configure(&self, aws: &Aws, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        wait_available(aws, id).await
    }
    /// Everything but its tags replaces it.
    async fn update(&self, _aws: &Aws, _id: &str, _before: &Attrs, _after: &Attrs) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.ec2.describe_nat_gateways().filter(vpc.filter("vpc-id")).into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.nat_gateways())
            .filter(|g| !g.state().is_some_and(|s| matches!(s, NatGatewayState::Deleted | NatGatewayState::Deleting)))
            .filter_map(|g| g.nat_gateway_id())
            .map(str::to_string)
            .collect())
    }
}

async fn gateways(aws: &Aws, sel: Select<'_>) -> Result<Vec<NatGateway>, ProviderError> {
    let call = aws.ec2.describe_nat_gateways().filter(sel.filter("nat-gateway-id")).into_paginator().send();
    let mut out = Vec::new();
    for page in crate::util::pages(aws, call).await? {
        out.extend(page.nat_gateways.unwrap_or_default());
    }
    Ok(out)
}

/// NAT gateways, without the deleted ones AWS keeps listing for a while.
pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = gateways(aws, sel).await?;
    Ok(found
        .iter()
        .filter(|g| g.state() != Some(&NatGatewayState::Deleted))
        .map(|g| described(g.nat_gateway_id().unwrap_or_default(), g.tags(), observe(g)))
        .collect())
}

fn observe(g: &NatGateway) -> Vec<(&'static str, Value)> {
    let first = g.nat_gateway_addresses().first();
    vec![
        ("subnet_id", opt_str(g.subnet_id())),
        ("allocation_id", opt_str(first.and_then(|a| a.allocation_id()))),
        ("public_ip", opt_str(first.and_then(|a| a.public_ip()))),
        ("private_ip", opt_str(first.and_then(|a| a.private_ip()))),
    ]
}

fn request(b: CreateNatGatewayFluentBuilder, c: &Create<'_>) -> CreateNatGatewayFluentBuilder {
    b.client_token(c.token)
        .set_subnet_id(str_attr(c.attrs, "subnet_id").map(str::to_string))
        .set_allocation_id(str_attr(c.attrs, "allocation_id").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::Natgateway, c.stack, c.address, c.attrs.get("tags")))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(Call::Mutate).await;
    let out = request(aws.once.ec2.create_nat_gateway(), c).send().await.map_err(aws_err)?;
    out.nat_gateway()
        .and_then(|g| g.nat_gateway_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateNatGateway returned no id"))
}

/// Waits until the gateway is `available` (a `failed` one is an error with AWS's reason).
async fn wait_available(aws: &Aws, id: &str) -> Result<(), ProviderError> {
    let ids = [id.to_string()];
    retry_until(aws, aws.timeouts.ready, id, Until::Available, || async {
        let now = gateways(aws, Select::Ids(&ids)).await?;
        match now.first().and_then(|g| g.state()) {
            Some(NatGatewayState::Available) => Ok(Some(())),
            Some(NatGatewayState::Failed) => {
                let why = now[0].failure_message().unwrap_or("no reason given");
                let code = now[0].failure_code().unwrap_or("NatGatewayFailed").to_string();
                Err(ProviderError::new(Some(code.as_str()), format!("the NAT gateway failed: {why}")))
            }
            _ => Ok(None),
        }
    })
    .await
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Mutate).await;
        aws.ec2.delete_nat_gateway().nat_gateway_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await?;
    // Its address and its subnet are held until it is `deleted`.
    let ids = [id.to_string()];
    retry_until(aws, aws.timeouts.delete, id, Until::Deleted, || async {
        let now = gateways(aws, Select::Ids(&ids)).await?;
        Ok(now.first().is_none_or(|g| g.state() == Some(&NatGatewayState::Deleted)).then_some(()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::NatGatewayAddress;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_nat_gateway_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("nat_gateway", &["subnet_id", "allocation_id", "tags"], vec![]),
        ) {
            let address = roundtrip::address("nat_gateway");
            let sent = request(roundtrip::ec2().create_nat_gateway(), &roundtrip::create(&address, &attrs));
            let i = sent.as_input();
            let answer = NatGateway::builder()
                .set_subnet_id(i.get_subnet_id().clone())
                .nat_gateway_addresses(NatGatewayAddress::builder().set_allocation_id(i.get_allocation_id().clone()).build())
                .set_tags(Some(roundtrip::ec2_tags(i.get_tag_specifications())))
                .build();
            let back = described("nat-1", answer.tags(), observe(&answer)).attrs;
            gives_back(&attrs, &back, &["subnet_id", "allocation_id", "tags"])?;
        }
    }
}
