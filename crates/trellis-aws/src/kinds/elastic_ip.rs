//! `elastic_ip`: allocate, associate, disassociate, release.

use async_trait::async_trait;
use aws_sdk_ec2::operation::allocate_address::builders::AllocateAddressFluentBuilder;
use aws_sdk_ec2::types::{Address as Eip, DomainType, ResourceType};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::limits::Call;
use crate::util::Described;
use crate::util::{aws_err, delete_with_retry, described, is_code, opt_str, str_attr, tag_spec, Select};

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
        update(aws, id, &Attrs::new(), attrs).await
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
    /// The addresses of the instances and NAT gateways found in the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let instances: Vec<&String> = vpc.ids(&trellis_core::kinds::INSTANCE).collect();
        let nats: Vec<String> = vpc.ids(&trellis_core::kinds::NAT_GATEWAY).cloned().collect();
        let mut held = Vec::new();
        if !nats.is_empty() {
            let call = aws.ec2.describe_nat_gateways().set_nat_gateway_ids(Some(nats)).into_paginator().send();
            for p in crate::util::pages(aws, call).await? {
                let addresses = p.nat_gateways().iter().flat_map(|g| g.nat_gateway_addresses());
                held.extend(addresses.filter_map(|a| a.allocation_id()).map(str::to_string));
            }
        }
        aws.call(Call::Describe).await;
        let out = aws.ec2.describe_addresses().send().await.map_err(aws_err)?;
        Ok(out
            .addresses()
            .iter()
            .filter(|a| {
                a.instance_id().is_some_and(|i| instances.iter().any(|x| *x == i))
                    || a.allocation_id().is_some_and(|id| held.iter().any(|h| h == id))
            })
            .filter_map(|a| a.allocation_id())
            .map(str::to_string)
            .collect())
    }
}

async fn addresses(aws: &Aws, sel: Select<'_>) -> Result<Vec<Eip>, ProviderError> {
    aws.call(Call::Describe).await;
    let out = aws.ec2.describe_addresses().filters(sel.filter("allocation-id")).send().await.map_err(aws_err)?;
    Ok(out.addresses.unwrap_or_default())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = addresses(aws, sel).await?;
    Ok(found.iter().map(|a| described(a.allocation_id().unwrap_or_default(), a.tags(), observe(a))).collect())
}

fn observe(a: &Eip) -> Vec<(&'static str, Value)> {
    vec![
        ("domain", opt_str(a.domain().map(|d| d.as_str()))),
        ("instance_id", opt_str(a.instance_id())),
        ("public_ip", opt_str(a.public_ip())),
        ("allocation_id", opt_str(a.allocation_id())),
    ]
}

fn request(b: AllocateAddressFluentBuilder, c: &Create<'_>) -> AllocateAddressFluentBuilder {
    b.set_domain(str_attr(c.attrs, "domain").map(DomainType::from)).tag_specifications(tag_spec(
        ResourceType::ElasticIp,
        c.stack,
        c.address,
        c.attrs.get("tags"),
    ))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(Call::Mutate).await;
    let out = request(aws.once.ec2.allocate_address(), c).send().await.map_err(aws_err)?;
    out.allocation_id().map(str::to_string).ok_or_else(|| ProviderError::new(None, "AllocateAddress returned no id"))
}

/// Moves the association to the instance `after` names, or ends it.
pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
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

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    disassociate(aws, id).await?;
    // A NAT gateway that held it lets it go only once it is deleted: retried as in use.
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Mutate).await;
        aws.ec2.release_address().allocation_id(id).send().await.map(|_| ()).map_err(aws_err)
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
        fn an_elastic_ip_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("elastic_ip", &["domain", "instance_id", "tags"], vec![]),
        ) {
            let address = roundtrip::address("elastic_ip");
            let sent = request(roundtrip::ec2().allocate_address(), &roundtrip::create(&address, &attrs));
            let i = sent.as_input();
            // The instance is the association's (`update` from nothing).
            let answer = Eip::builder()
                .set_domain(i.get_domain().clone())
                .set_instance_id(str_attr(&attrs, "instance_id").map(str::to_string))
                .set_tags(Some(roundtrip::ec2_tags(i.get_tag_specifications())))
                .build();
            let back = described("eipalloc-1", answer.tags(), observe(&answer)).attrs;
            gives_back(&attrs, &back, &["domain", "instance_id", "tags"])?;
        }
    }
}
