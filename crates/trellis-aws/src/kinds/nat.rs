//! Elastic IPs (allocate, associate, disassociate, release) and NAT gateways (create,
//! wait until available; delete, wait until deleted).

use aws_sdk_ec2::operation::allocate_address::builders::AllocateAddressFluentBuilder;
use aws_sdk_ec2::operation::create_nat_gateway::builders::CreateNatGatewayFluentBuilder;
use aws_sdk_ec2::types::{Address as Eip, DomainType, NatGateway, NatGatewayState, ResourceType};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::Create;
use crate::aws::Aws;
use crate::limits::Call;
use crate::util::Described;
use crate::util::{aws_err, delete_with_retry, described, is_code, opt_str, retry_until, str_attr, tag_spec, Select};

async fn addresses(aws: &Aws, sel: Select<'_>) -> Result<Vec<Eip>, ProviderError> {
    aws.call(Call::Describe).await;
    let out = aws.ec2.describe_addresses().filters(sel.filter("allocation-id")).send().await.map_err(aws_err)?;
    Ok(out.addresses.unwrap_or_default())
}

pub(crate) async fn describe_eips(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = addresses(aws, sel).await?;
    Ok(found.iter().map(|a| described(a.allocation_id().unwrap_or_default(), a.tags(), observe_eip(a))).collect())
}

fn observe_eip(a: &Eip) -> Vec<(&'static str, Value)> {
    vec![
        ("domain", opt_str(a.domain().map(|d| d.as_str()))),
        ("instance_id", opt_str(a.instance_id())),
        ("public_ip", opt_str(a.public_ip())),
        ("allocation_id", opt_str(a.allocation_id())),
    ]
}

fn eip_request(b: AllocateAddressFluentBuilder, c: &Create<'_>) -> AllocateAddressFluentBuilder {
    b.set_domain(str_attr(c.attrs, "domain").map(DomainType::from)).tag_specifications(tag_spec(
        ResourceType::ElasticIp,
        c.stack,
        c.address,
        c.attrs.get("tags"),
    ))
}

pub(crate) async fn create_eip(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(Call::Mutate).await;
    let out = eip_request(aws.once.ec2.allocate_address(), c).send().await.map_err(aws_err)?;
    out.allocation_id().map(str::to_string).ok_or_else(|| ProviderError::new(None, "AllocateAddress returned no id"))
}

pub(crate) async fn configure_eip(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    update_eip(aws, id, &Attrs::new(), attrs).await
}

/// Moves the association to the instance `after` names, or ends it.
pub(crate) async fn update_eip(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let want = str_attr(after, "instance_id");
    if str_attr(before, "instance_id") == want {
        return Ok(());
    }
    disassociate(aws, id).await?;
    if let Some(instance) = want {
        aws.call(Call::Mutate).await;
        aws.ec2.associate_address().allocation_id(id).instance_id(instance).send().await.map_err(aws_err)?;
    }
    Ok(())
}

/// Ends the address's association, whatever AWS has it associated with now.
async fn disassociate(aws: &Aws, id: &str) -> Result<(), ProviderError> {
    let now = addresses(aws, Select::Ids(&[id.to_string()])).await?;
    let Some(association) = now.first().and_then(|a| a.association_id()) else { return Ok(()) };
    aws.call(Call::Mutate).await;
    match aws.ec2.disassociate_address().association_id(association).send().await.map_err(aws_err) {
        Err(e) if !is_code(&e, &["InvalidAssociationID.NotFound"]) => Err(e),
        _ => Ok(()),
    }
}

pub(crate) async fn delete_eip(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    disassociate(aws, id).await?;
    // A NAT gateway that held it lets it go only once it is deleted: retried as in use.
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Mutate).await;
        aws.ec2.release_address().allocation_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
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
pub(crate) async fn describe_nats(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = gateways(aws, sel).await?;
    Ok(found
        .iter()
        .filter(|g| g.state() != Some(&NatGatewayState::Deleted))
        .map(|g| described(g.nat_gateway_id().unwrap_or_default(), g.tags(), observe_nat(g)))
        .collect())
}

fn observe_nat(g: &NatGateway) -> Vec<(&'static str, Value)> {
    let first = g.nat_gateway_addresses().first();
    vec![
        ("subnet_id", opt_str(g.subnet_id())),
        ("allocation_id", opt_str(first.and_then(|a| a.allocation_id()))),
        ("public_ip", opt_str(first.and_then(|a| a.public_ip()))),
        ("private_ip", opt_str(first.and_then(|a| a.private_ip()))),
    ]
}

fn nat_request(b: CreateNatGatewayFluentBuilder, c: &Create<'_>) -> CreateNatGatewayFluentBuilder {
    b.client_token(c.token)
        .set_subnet_id(str_attr(c.attrs, "subnet_id").map(str::to_string))
        .set_allocation_id(str_attr(c.attrs, "allocation_id").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::Natgateway, c.stack, c.address, c.attrs.get("tags")))
}

pub(crate) async fn create_nat(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(Call::Mutate).await;
    let out = nat_request(aws.once.ec2.create_nat_gateway(), c).send().await.map_err(aws_err)?;
    out.nat_gateway()
        .and_then(|g| g.nat_gateway_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateNatGateway returned no id"))
}

/// Waits until the gateway is `available` (a `failed` one is an error with AWS's reason).
pub(crate) async fn configure_nat(aws: &Aws, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
    let ids = [id.to_string()];
    retry_until(aws, aws.timeouts.ready, &format!("{id}: waiting until it is available"), || async {
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

pub(crate) async fn delete_nat(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Mutate).await;
        aws.ec2.delete_nat_gateway().nat_gateway_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await?;
    // Its address and its subnet are held until it is `deleted`.
    let ids = [id.to_string()];
    retry_until(aws, aws.timeouts.delete, &format!("{id}: waiting until it is deleted"), || async {
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
        fn an_elastic_ip_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("elastic_ip", &["domain", "instance_id", "tags"], vec![]),
        ) {
            let address = roundtrip::address("elastic_ip");
            let sent = eip_request(roundtrip::ec2().allocate_address(), &roundtrip::create(&address, &attrs));
            let i = sent.as_input();
            // The instance is the association's (`update_eip` from nothing).
            let answer = Eip::builder()
                .set_domain(i.get_domain().clone())
                .set_instance_id(str_attr(&attrs, "instance_id").map(str::to_string))
                .set_tags(Some(roundtrip::ec2_tags(i.get_tag_specifications())))
                .build();
            let back = described("eipalloc-1", answer.tags(), observe_eip(&answer)).attrs;
            gives_back(&attrs, &back, &["domain", "instance_id", "tags"])?;
        }

        #[test]
        fn a_nat_gateway_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("nat_gateway", &["subnet_id", "allocation_id", "tags"], vec![]),
        ) {
            let address = roundtrip::address("nat_gateway");
            let sent = nat_request(roundtrip::ec2().create_nat_gateway(), &roundtrip::create(&address, &attrs));
            let i = sent.as_input();
            let answer = NatGateway::builder()
                .set_subnet_id(i.get_subnet_id().clone())
                .nat_gateway_addresses(NatGatewayAddress::builder().set_allocation_id(i.get_allocation_id().clone()).build())
                .set_tags(Some(roundtrip::ec2_tags(i.get_tag_specifications())))
                .build();
            let back = described("nat-1", answer.tags(), observe_nat(&answer)).attrs;
            gives_back(&attrs, &back, &["subnet_id", "allocation_id", "tags"])?;
        }
    }
}
