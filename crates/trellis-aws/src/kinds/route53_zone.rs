//! `route53_zone`: a hosted zone. Route53's list has no tag filter: the zones are
//! listed (100 a page) and their tags read 10 zones a call. Each zone the selection
//! keeps is read once more (`GetHostedZone`) for its name servers and VPCs. The create
//! sends trellis's token as its `CallerReference`, which is how a create whose answer
//! was lost is found (Route53 takes no tags at create).

use async_trait::async_trait;
use aws_sdk_route53::operation::create_hosted_zone::builders::CreateHostedZoneFluentBuilder;
use aws_sdk_route53::types::{HostedZone, HostedZoneConfig, Vpc, VpcRegion};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::route53::{bare, plain_name, tags_of};
use crate::service::Service;
use crate::util::{all_tags, aws_err, delete_with_retry, described_with, list_attr, str_attr, Described, Select};
use crate::TAG_STACK;

/// The AWS side of `route53_zone`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::ROUTE53_ZONES
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let zones = list(aws).await?;
        let ids: Vec<String> = zones.iter().map(|z| bare(z.id()).to_string()).collect();
        let kept: Vec<&HostedZone> = match sel {
            Select::Ids(wanted) => zones.iter().filter(|z| wanted.iter().any(|w| w == bare(z.id()))).collect(),
            Select::Stack(stack) => {
                let tags = tags_of(aws, &ids).await?;
                let ours = |z: &&HostedZone| tags.get(bare(z.id())).and_then(|t| t.get(TAG_STACK)).is_some_and(|s| s == stack);
                zones.iter().filter(ours).collect()
            }
        };
        let kept_ids: Vec<String> = kept.iter().map(|z| bare(z.id()).to_string()).collect();
        let tags = if kept_ids.is_empty() { Default::default() } else { tags_of(aws, &kept_ids).await? };
        let mut out = Vec::new();
        for z in kept {
            let id = bare(z.id());
            aws.call(Call::Route53).await;
            let full = match aws.r53.get_hosted_zone().id(id).send().await.map_err(aws_err) {
                Ok(full) => full,
                Err(e) if crate::util::is_code(&e, crate::util::NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            let servers = full.delegation_set().map(|d| d.name_servers().to_vec()).unwrap_or_default();
            let vpcs: Vec<String> = full.vpcs().iter().filter_map(|v| v.vpc_id().map(str::to_string)).collect();
            out.push(described_with(id, tags.get(id).cloned().unwrap_or_default(), observe(z, &vpcs, &servers)));
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        aws.call(Call::Route53).await;
        let out = request(aws.once.r53.create_hosted_zone(), aws.region(), c).send().await.map_err(aws_err)?;
        let id = out.hosted_zone().map(|z| bare(z.id()).to_string()).ok_or_else(|| {
            ProviderError::new(None, "CreateHostedZone returned no zone")
        })?;
        // Route53 takes no tags at create: they are set at once, and a zone found by
        // its caller reference without them gets them then (`find_created`).
        crate::service::route53::sync_tags(aws, &id, None, Some(&tags_value(c))).await?;
        Ok(id)
    }
    /// The VPCs after the first, which the create took.
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        for vpc in vpc_ids(attrs).iter().skip(1) {
            aws.call(Call::Route53).await;
            let vpc = Vpc::builder().vpc_id(vpc).vpc_region(VpcRegion::from(aws.region())).build();
            let call = aws.r53.associate_vpc_with_hosted_zone().hosted_zone_id(id).vpc(vpc).send().await.map_err(aws_err);
            if let Err(e) = call {
                // Associated already: a configure run again after a lost answer.
                if !crate::util::is_code(&e, &["ConflictingDomainExists"]) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        let (had, has) = (vpc_ids(before), vpc_ids(after));
        if had.is_empty() != has.is_empty() {
            return Err(ProviderError::new(
                Some("InvalidInput"),
                format!("zone {id}: a public zone cannot become private, nor a private one public (AWS's rule); replace it with `--replace`"),
            ));
        }
        // Added first: a private zone keeps at least one VPC throughout.
        for vpc in has.iter().filter(|v| !had.contains(v)) {
            aws.call(Call::Route53).await;
            let vpc = Vpc::builder().vpc_id(vpc).vpc_region(VpcRegion::from(aws.region())).build();
            aws.r53.associate_vpc_with_hosted_zone().hosted_zone_id(id).vpc(vpc).send().await.map_err(aws_err)?;
        }
        for vpc in had.iter().filter(|v| !has.contains(v)) {
            aws.call(Call::Route53).await;
            let vpc = Vpc::builder().vpc_id(vpc).vpc_region(VpcRegion::from(aws.region())).build();
            aws.r53.disassociate_vpc_from_hosted_zone().hosted_zone_id(id).vpc(vpc).send().await.map_err(aws_err)?;
        }
        if before.get("comment") != after.get("comment") {
            aws.call(Call::Route53).await;
            let comment = str_attr(after, "comment").unwrap_or("").to_string();
            aws.r53.update_hosted_zone_comment().id(id).comment(comment).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::Route53).await;
            aws.r53.delete_hosted_zone().id(id).send().await.map(|_| ()).map_err(aws_err)
        })
        .await
    }
    /// The zone whose caller reference is the create's token, tagged if it is not yet.
    async fn find_created(&self, aws: &Aws, c: &Create<'_>) -> Result<Vec<Described>, ProviderError> {
        let zones = list(aws).await?;
        let Some(zone) = zones.iter().find(|z| z.caller_reference() == c.token) else { return Ok(Vec::new()) };
        let id = bare(zone.id()).to_string();
        crate::service::route53::sync_tags(aws, &id, None, Some(&tags_value(c))).await?;
        self.describe(aws, Select::Ids(&[id])).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a hosted zone is not in a VPC: name it in a spec to manage it")
    }
}

/// Every hosted zone of the account.
async fn list(aws: &Aws) -> Result<Vec<HostedZone>, ProviderError> {
    let call = aws.r53.list_hosted_zones().into_paginator().send();
    let pages = crate::util::pages_with(aws, Call::Route53, call).await?;
    Ok(pages.into_iter().flat_map(|p| p.hosted_zones).collect())
}

/// The user's tags and trellis's own, as the map `sync_tags` takes.
fn tags_value(c: &Create<'_>) -> Value {
    Value::Map(all_tags(c.stack, c.address, c.attrs.get("tags")).into_iter().map(|(k, v)| (k, Value::Str(v))).collect())
}

fn vpc_ids(attrs: &Attrs) -> Vec<String> {
    list_attr(attrs, "vpcs").iter().filter_map(Value::as_str).map(str::to_string).collect()
}

fn request(b: CreateHostedZoneFluentBuilder, region: &str, c: &Create<'_>) -> CreateHostedZoneFluentBuilder {
    let vpcs = vpc_ids(c.attrs);
    let config = HostedZoneConfig::builder()
        .set_comment(str_attr(c.attrs, "comment").map(str::to_string))
        .private_zone(!vpcs.is_empty())
        .build();
    let first = vpcs.first().map(|v| Vpc::builder().vpc_id(v).vpc_region(VpcRegion::from(region)).build());
    b.set_name(str_attr(c.attrs, "name").map(str::to_string))
        .caller_reference(c.token)
        .hosted_zone_config(config)
        .set_vpc(first)
}

fn observe(z: &HostedZone, vpcs: &[String], servers: &[String]) -> Vec<(&'static str, Value)> {
    let comment = z.config().and_then(|c| c.comment()).filter(|c| !c.is_empty()).map(Value::str).unwrap_or(Value::Null);
    let mut vpcs: Vec<Value> = vpcs.iter().map(Value::str).collect();
    normalize_set(&mut vpcs);
    let private = z.config().is_some_and(|c| c.private_zone());
    vec![
        ("name", Value::Str(plain_name(z.name()))),
        ("comment", comment),
        ("vpcs", if private { Value::List(vpcs) } else { Value::List(Vec::new()) }),
        ("name_servers", Value::List(servers.iter().map(Value::str).collect())),
    ]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &["name", "comment", "vpcs", "tags"];

    proptest! {
        #[test]
        fn a_zone_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("route53_zone", ALL, vec![
                ("name", "[a-z]{1,12}\\.(com|net|example)".prop_map(Value::Str).boxed()),
            ]),
        ) {
            let address = roundtrip::address("route53_zone");
            let client = roundtrip::config(|c| aws_sdk_route53::Client::new(&c));
            let sent = request(client.create_hosted_zone(), "us-east-1", &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            let config = input.get_hosted_zone_config().clone().unwrap();
            let answer = HostedZone::builder()
                .id("/hostedzone/Z0123")
                .name(format!("{}.", input.get_name().clone().unwrap()))
                .caller_reference(input.get_caller_reference().clone().unwrap())
                .config(config)
                .build()
                .unwrap();
            // The first VPC goes in the create, the others are associated after it.
            let vpcs = vpc_ids(&attrs);
            prop_assert_eq!(input.get_vpc().as_ref().and_then(|v| v.vpc_id()), vpcs.first().map(String::as_str));
            let tags = roundtrip::tag_pairs(all_tags("st", &address, attrs.get("tags")).iter().map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))));
            let back = described_with("Z0123", tags, observe(&answer, &vpcs, &[])).attrs;
            gives_back(&attrs, &back, ALL)?;
        }
    }
}
