use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, SubnetState};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::Create;
use crate::util::{aws_err, bool_attr, delete_with_retry, described, opt_str, retry_until, str_attr, tag_spec, Select};
use crate::{Aws, Described};

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let pages =
        crate::util::pages(aws, aws.ec2.describe_subnets().filters(sel.filter("subnet-id")).into_paginator().send())
            .await?;
    let mut out = Vec::new();
    for page in pages {
        for s in page.subnets.unwrap_or_default() {
            out.push(described(
                s.subnet_id().unwrap_or_default(),
                s.tags(),
                vec![
                    ("vpc_id", opt_str(s.vpc_id())),
                    ("cidr_block", opt_str(s.cidr_block())),
                    ("availability_zone", opt_str(s.availability_zone())),
                    ("map_public_ip_on_launch", Value::Bool(s.map_public_ip_on_launch().unwrap_or(false))),
                ],
            ));
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
        .create_subnet()
        .set_vpc_id(str_attr(attrs, "vpc_id").map(str::to_string))
        .set_cidr_block(str_attr(attrs, "cidr_block").map(str::to_string))
        .set_availability_zone(str_attr(attrs, "availability_zone").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::Subnet, stack, address, attrs.get("tags")))
        .send()
        .await
        .map_err(aws_err)?;
    out.subnet()
        .and_then(|s| s.subnet_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateSubnet returned no id"))
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    retry_until(aws, aws.timeouts.ready, &format!("waiting for {id} to become available"), || async {
        aws.call(crate::limits::Call::Describe).await;
        let out = aws.ec2.describe_subnets().subnet_ids(id).send().await.map_err(aws_err)?;
        Ok(out.subnets().first().filter(|s| s.state() == Some(&SubnetState::Available)).map(|_| ()))
    })
    .await?;
    let defaults: Attrs = [("map_public_ip_on_launch".to_string(), Value::Bool(false))].into_iter().collect();
    update(aws, id, &defaults, attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let want = bool_attr(after, "map_public_ip_on_launch");
    if want.is_some() && want != bool_attr(before, "map_public_ip_on_launch") {
        aws.call(crate::limits::Call::Mutate).await;
        aws.ec2
            .modify_subnet_attribute()
            .subnet_id(id)
            .map_public_ip_on_launch(AttributeBooleanValue::builder().set_value(want).build())
            .send()
            .await
            .map_err(aws_err)?;
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
