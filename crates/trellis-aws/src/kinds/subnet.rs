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

/// The `netnum`-th /64 of an IPv6 /56 (`2600:1f18:1a2:b300::/56`, 1 ->
/// `2600:1f18:1a2:b301::/64`).
fn carve(block: &str, netnum: i64) -> Option<String> {
    let (addr, prefix) = block.split_once('/')?;
    let addr: std::net::Ipv6Addr = addr.parse().ok()?;
    if prefix != "56" || !(0..=255).contains(&netnum) {
        return None;
    }
    let bits = u128::from(addr) | ((netnum as u128) << 64);
    Some(format!("{}/64", std::net::Ipv6Addr::from(bits)))
}

/// Which /64 of its /56 a subnet's block is.
fn netnum_of(block: &str) -> Option<i64> {
    let addr: std::net::Ipv6Addr = block.split_once('/')?.0.parse().ok()?;
    Some(((u128::from(addr) >> 64) & 0xff) as i64)
}

fn ipv6_block(s: &Subnet) -> Option<&str> {
    s.ipv6_cidr_block_association_set().iter().find_map(|a| {
        let state = a.ipv6_cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str());
        matches!(state, Some("associated" | "associating") | None).then(|| a.ipv6_cidr_block()).flatten()
    })
}

fn observe(s: &Subnet) -> Vec<(&'static str, Value)> {
    let v6 = ipv6_block(s);
    vec![
        ("vpc_id", opt_str(s.vpc_id())),
        ("cidr_block", opt_str(s.cidr_block())),
        ("ipv6_cidr_block", opt_str(v6)),
        ("ipv6_netnum", v6.and_then(netnum_of).map(Value::Int).unwrap_or(Value::Null)),
        ("assign_ipv6_address_on_creation", Value::Bool(s.assign_ipv6_address_on_creation().unwrap_or(false))),
        ("availability_zone", opt_str(s.availability_zone())),
        ("map_public_ip_on_launch", Value::Bool(s.map_public_ip_on_launch().unwrap_or(false))),
    ]
}

/// `vpc_block`: the VPC's IPv6 /56, when the subnet takes a /64 of it.
fn request(b: CreateSubnetFluentBuilder, c: &Create<'_>, vpc_block: Option<&str>) -> CreateSubnetFluentBuilder {
    let v6 = c.attrs.get("ipv6_netnum").and_then(Value::as_int).and_then(|n| carve(vpc_block?, n));
    b.set_vpc_id(str_attr(c.attrs, "vpc_id").map(str::to_string))
        .set_ipv6_cidr_block(v6)
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
    // A /64 of the VPC's IPv6 block, which only AWS knows.
    let mut vpc_block = None;
    if let (Some(_), Some(vpc)) = (c.attrs.get("ipv6_netnum"), str_attr(c.attrs, "vpc_id")) {
        aws.call(crate::limits::Call::Describe).await;
        let out = aws.ec2.describe_vpcs().vpc_ids(vpc).send().await.map_err(aws_err)?;
        let block = out.vpcs().first().and_then(|v| {
            v.ipv6_cidr_block_association_set().iter().find_map(|a| a.ipv6_cidr_block().map(str::to_string))
        });
        let Some(block) = block else {
            return Err(ProviderError::new(
                Some("InvalidSubnet"),
                format!("VPC {vpc} has no IPv6 block for `ipv6_netnum`: give it `amazon_provided_ipv6_cidr_block: true`"),
            ));
        };
        vpc_block = Some(block);
    }
    aws.call(crate::limits::Call::Mutate).await;
    let out = request(aws.once.ec2.create_subnet(), c, vpc_block.as_deref()).send().await.map_err(aws_err)?;
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
    let defaults: Attrs = ["map_public_ip_on_launch", "assign_ipv6_address_on_creation"]
        .into_iter()
        .map(|k| (k.to_string(), Value::Bool(false)))
        .collect();
    update(aws, id, &defaults, attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    if let Some(call) = public_ip_change(aws.ec2.modify_subnet_attribute().subnet_id(id), before, after) {
        aws.call(crate::limits::Call::Mutate).await;
        call.send().await.map_err(aws_err)?;
    }
    // One attribute per call, as AWS takes them.
    let want = bool_attr(after, "assign_ipv6_address_on_creation");
    if want.is_some() && want != bool_attr(before, "assign_ipv6_address_on_creation") {
        aws.call(crate::limits::Call::Mutate).await;
        let value = AttributeBooleanValue::builder().set_value(want).build();
        aws.ec2
            .modify_subnet_attribute()
            .subnet_id(id)
            .assign_ipv6_address_on_creation(value)
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const SENT: &[&str] = &["vpc_id", "cidr_block", "availability_zone", "tags"];
    const VPC_BLOCK: &str = "2600:1f18:1a2:b300::/56";

    #[test]
    fn a_netnum_is_a_64_of_the_56() {
        assert_eq!(carve(VPC_BLOCK, 1).as_deref(), Some("2600:1f18:1a2:b301::/64"));
        assert_eq!(carve(VPC_BLOCK, 255).as_deref(), Some("2600:1f18:1a2:b3ff::/64"));
        assert_eq!(carve("2600:1f18:1a2:b300::/48", 1), None, "only a /56 is carved");
        assert_eq!(netnum_of("2600:1f18:1a2:b3ff::/64"), Some(255));
    }

    proptest! {
        #[test]
        fn a_subnet_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("subnet", &["vpc_id", "cidr_block", "availability_zone", "tags", "map_public_ip_on_launch", "ipv6_netnum"], vec![
                ("ipv6_netnum", (0i64..=255).prop_map(Value::Int).boxed()),
            ]),
        ) {
            let address = roundtrip::address("subnet");
            let sent = request(roundtrip::ec2().create_subnet(), &roundtrip::create(&address, &attrs), Some(VPC_BLOCK));
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
                .set_ipv6_cidr_block_association_set(input.get_ipv6_cidr_block().clone().map(|b| {
                    vec![aws_sdk_ec2::types::SubnetIpv6CidrBlockAssociation::builder().ipv6_cidr_block(b).build()]
                }))
                .set_tags(Some(roundtrip::ec2_tags(input.get_tag_specifications())))
                .build();
            let back = described("subnet-1", answer.tags(), observe(&answer)).attrs;
            gives_back(&attrs, &back, SENT)?;
            prop_assert_eq!(back.get("ipv6_netnum").cloned().unwrap_or(Value::Null), attrs.get("ipv6_netnum").cloned().unwrap_or(Value::Null));
            let public = attrs.get("map_public_ip_on_launch").cloned().unwrap_or(Value::Bool(false));
            prop_assert_eq!(&back["map_public_ip_on_launch"], &public);
        }
    }
}
