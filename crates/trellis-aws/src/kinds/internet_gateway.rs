//! `internet_gateway`: created, then attached to its VPC; a VPC change detaches it and
//! attaches it again; it is detached before it is deleted.

use async_trait::async_trait;
use aws_sdk_ec2::operation::create_internet_gateway::builders::CreateInternetGatewayFluentBuilder;
use aws_sdk_ec2::types::{InternetGateway, ResourceType};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::util::Described;
use crate::util::{aws_err, delete_with_retry, described, is_code, str_attr, tag_spec, Select};

/// The AWS side of `internet_gateway`.
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
    /// The gateway attached to the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call =
            aws.ec2.describe_internet_gateways().filters(vpc.filter("attachment.vpc-id")).into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.internet_gateways())
            .filter_map(|g| g.internet_gateway_id())
            .map(str::to_string)
            .collect())
    }
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let call = aws.ec2.describe_internet_gateways().filters(sel.filter("internet-gateway-id")).into_paginator().send();
    let mut out = Vec::new();
    for page in crate::util::pages(aws, call).await? {
        for g in page.internet_gateways.unwrap_or_default() {
            out.push(described(g.internet_gateway_id().unwrap_or_default(), g.tags(), observe(&g)));
        }
    }
    Ok(out)
}

fn observe(g: &InternetGateway) -> Vec<(&'static str, Value)> {
    vec![("vpc_id", g.attachments().iter().find_map(|a| a.vpc_id()).map(Value::str).unwrap_or(Value::Null))]
}

fn request(b: CreateInternetGatewayFluentBuilder, c: &Create<'_>) -> CreateInternetGatewayFluentBuilder {
    b.tag_specifications(tag_spec(ResourceType::InternetGateway, c.stack, c.address, c.attrs.get("tags")))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(crate::limits::Call::Mutate).await;
    let out = request(aws.once.ec2.create_internet_gateway(), c).send().await.map_err(aws_err)?;
    out.internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateInternetGateway returned no id"))
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    update(aws, id, &Attrs::new(), attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let (old, new) = (str_attr(before, "vpc_id"), str_attr(after, "vpc_id"));
    if old == new {
        return Ok(());
    }
    if let Some(old) = old {
        detach(aws, id, old).await?;
    }
    if let Some(new) = new {
        aws.call(crate::limits::Call::Mutate).await;
        match aws.ec2.attach_internet_gateway().internet_gateway_id(id).vpc_id(new).send().await.map_err(aws_err) {
            Err(e) if !crate::errors::already_done(&e) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

async fn detach(aws: &Aws, id: &str, vpc: &str) -> Result<(), ProviderError> {
    aws.call(crate::limits::Call::Mutate).await;
    match aws.ec2.detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await.map_err(aws_err) {
        Err(e) if is_code(&e, &["Gateway.NotAttached"]) => Ok(()),
        other => other.map(|_| ()),
    }
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    // Detach from wherever it is attached now (not only where the state saw it).
    // Detaching fails while public addresses remain in the VPC: retried like a delete.
    let live = describe(aws, Select::Ids(&[id.to_string()])).await?;
    if let Some(vpc) = live.first().and_then(|g| str_attr(&g.attrs, "vpc_id")) {
        delete_with_retry(aws, address, id, || detach(aws, id, vpc)).await?;
    }
    delete_with_retry(aws, address, id, || async {
        aws.call(crate::limits::Call::Mutate).await;
        aws.ec2.delete_internet_gateway().internet_gateway_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::InternetGatewayAttachment;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_gateway_comes_back_as_it_was_made(attrs in roundtrip::attrs("internet_gateway", &["vpc_id", "tags"], vec![])) {
            let address = roundtrip::address("internet_gateway");
            let sent = request(roundtrip::ec2().create_internet_gateway(), &roundtrip::create(&address, &attrs));
            // The VPC is the attach call's (`update` from nothing).
            let attached = str_attr(&attrs, "vpc_id").map(|v| InternetGatewayAttachment::builder().vpc_id(v).build());
            let answer = InternetGateway::builder()
                .set_tags(Some(roundtrip::ec2_tags(sent.as_input().get_tag_specifications())))
                .set_attachments(Some(attached.into_iter().collect()))
                .build();
            let back = described("igw-1", answer.tags(), observe(&answer)).attrs;
            gives_back(&attrs, &back, &["vpc_id", "tags"])?;
        }
    }
}
