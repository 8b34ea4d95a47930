use aws_sdk_ec2::types::ResourceType;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::Create;
use crate::util::{aws_err, delete_with_retry, described, is_code, str_attr, tag_spec, Select};
use crate::{Aws, Described};

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let call = aws.ec2.describe_internet_gateways().filters(sel.filter("internet-gateway-id")).into_paginator().send();
    let mut out = Vec::new();
    for page in crate::util::pages(aws, call).await? {
        for g in page.internet_gateways.unwrap_or_default() {
            let vpc = g.attachments().iter().find_map(|a| a.vpc_id()).map(Value::str).unwrap_or(Value::Null);
            out.push(described(g.internet_gateway_id().unwrap_or_default(), g.tags(), vec![("vpc_id", vpc)]));
        }
    }
    Ok(out)
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let (stack, address, attrs) = (c.stack, c.address, c.attrs);
    aws.call(crate::limits::Call::Mutate).await;
    let out = aws
        .once
        .ec2
        .create_internet_gateway()
        .tag_specifications(tag_spec(ResourceType::InternetGateway, stack, address, attrs.get("tags")))
        .send()
        .await
        .map_err(aws_err)?;
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
