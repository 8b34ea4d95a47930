//! `load_balancer`: an application load balancer, waited for until `active`; its
//! attributes (idle timeout, deletion protection) are set after the create.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::operation::create_load_balancer::builders::CreateLoadBalancerFluentBuilder;
use aws_sdk_elasticloadbalancingv2::types::{
    IpAddressType, LoadBalancer, LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum,
};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::progress::Until;
use crate::service::elb::{arn_suffix, by_arns, of_stack, tags_for, tags_of};
use crate::util::Described;
use crate::util::{
    aws_err, create_named, delete_with_retry, described_with, list_attr, opt_str, retry_until, str_attr, Select,
};

/// The AWS side of `load_balancer`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::ELB
    }
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
    /// Load balancer names are unique in a region.
    async fn named(&self, aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
        aws.call(Call::ElbDescribe).await;
        match aws.elb.describe_load_balancers().names(name).send().await.map_err(aws_err) {
            Ok(out) => Ok(out.load_balancers().first().and_then(|l| l.load_balancer_arn()).map(str::to_string)),
            Err(e) if crate::util::is_code(&e, &["LoadBalancerNotFound"]) => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// ELB has no VPC filter: every load balancer, kept if it is in the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.elb.describe_load_balancers().into_paginator().send();
        let pages = crate::util::pages_with(aws, Call::ElbDescribe, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.load_balancers())
            .filter(|lb| lb.vpc_id() == Some(vpc.vpc))
            .filter_map(|lb| lb.load_balancer_arn())
            .map(str::to_string)
            .collect())
    }
}

const IDLE: &str = "idle_timeout.timeout_seconds";
const PROTECT: &str = "deletion_protection.enabled";
/// The boolean attributes set by name: (attribute, AWS's key).
const SWITCHES: [(&str, &str); 3] = [
    ("deletion_protection", PROTECT),
    ("drop_invalid_header_fields", "routing.http.drop_invalid_header_fields.enabled"),
    ("preserve_host_header", "routing.http.preserve_host_header.enabled"),
];

/// The access log attributes: (AWS's key, the schema's member).
const LOGS: [(&str, &str); 3] =
    [("access_logs.s3.enabled", "enabled"), ("access_logs.s3.bucket", "bucket"), ("access_logs.s3.prefix", "prefix")];

/// `access_logs` from the attributes AWS gives (`attr` by key): none while no bucket
/// is named.
fn logs_value<'a>(attr: impl Fn(&str) -> Option<&'a str>) -> Value {
    let bucket = attr(LOGS[1].0).filter(|b| !b.is_empty());
    let Some(bucket) = bucket else { return Value::Null };
    let mut m = std::collections::BTreeMap::new();
    m.insert("bucket".to_string(), Value::str(bucket));
    m.insert("enabled".to_string(), Value::Bool(attr(LOGS[0].0) == Some("true")));
    if let Some(p) = attr(LOGS[2].0).filter(|p| !p.is_empty()) {
        m.insert("prefix".to_string(), Value::str(p));
    }
    Value::Map(m)
}

async fn read(aws: &Aws, arns: Vec<String>) -> Result<Vec<LoadBalancer>, ProviderError> {
    let out = aws.elb.describe_load_balancers().set_load_balancer_arns(Some(arns)).send().await.map_err(aws_err)?;
    Ok(out.load_balancers.unwrap_or_default())
}

fn strings(items: impl IntoIterator<Item = String>) -> Value {
    let mut v: Vec<Value> = items.into_iter().map(Value::Str).collect();
    normalize_set(&mut v);
    Value::List(v)
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let lbs: Vec<LoadBalancer> = match sel {
        Select::Stack(_) => {
            let pages = crate::util::pages_with(
                aws,
                Call::ElbDescribe,
                aws.elb.describe_load_balancers().page_size(400).into_paginator().send(),
            )
            .await?;
            pages.into_iter().flat_map(|p| p.load_balancers.unwrap_or_default()).collect()
        }
        Select::Ids(ids) => by_arns(aws, ids, "LoadBalancerNotFound", |chunk| read(aws, chunk)).await?,
    };
    let lbs: Vec<(String, LoadBalancer)> = lbs
        .into_iter()
        .filter(|l| l.r#type() == Some(&LoadBalancerTypeEnum::Application))
        .map(|l| (l.load_balancer_arn().unwrap_or_default().to_string(), l))
        .collect();
    let arns: Vec<String> = lbs.iter().map(|(a, _)| a.clone()).collect();
    let tags = tags_of(aws, &arns).await?;
    let lbs = match sel {
        Select::Stack(stack) => of_stack(lbs, &tags, stack),
        Select::Ids(_) => lbs,
    };
    let mut out = Vec::new();
    for (arn, lb) in lbs {
        // Attributes come one load balancer per call: AWS offers no batch.
        aws.call(Call::ElbDescribe).await;
        let res = aws.elb.describe_load_balancer_attributes().load_balancer_arn(&arn).send().await.map_err(aws_err)?;
        let attr = |key: &str| res.attributes().iter().find(|a| a.key() == Some(key)).and_then(|a| a.value());
        let idle = attr(IDLE).and_then(|v| v.parse::<i64>().ok()).map(Value::Int).unwrap_or(Value::Null);
        let switches = SWITCHES.map(|(name, key)| (name, attr(key).map(|v| Value::Bool(v == "true")).unwrap_or(Value::Null)));
        let logs = logs_value(attr);
        out.push(described_with(&arn, tags.get(&arn).cloned().unwrap_or_default(), observe(&arn, &lb, idle, switches, logs)));
    }
    Ok(out)
}

fn observe(
    arn: &str,
    lb: &LoadBalancer,
    idle: Value,
    switches: [(&'static str, Value); 3],
    logs: Value,
) -> Vec<(&'static str, Value)> {
    let mut seen = vec![
        ("name", opt_str(lb.load_balancer_name())),
        ("scheme", opt_str(lb.scheme().map(|s| s.as_str()))),
        ("ip_address_type", opt_str(lb.ip_address_type().map(|t| t.as_str()))),
        ("subnets", strings(lb.availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)))),
        ("security_groups", strings(lb.security_groups().iter().cloned())),
        ("idle_timeout", idle),
        ("dns_name", opt_str(lb.dns_name())),
        ("canonical_hosted_zone_id", opt_str(lb.canonical_hosted_zone_id())),
        ("arn_suffix", arn_suffix(arn)),
        ("access_logs", logs),
    ];
    seen.extend(switches);
    seen
}

fn request(b: CreateLoadBalancerFluentBuilder, c: &Create<'_>, name: String) -> CreateLoadBalancerFluentBuilder {
    let attrs = c.attrs;
    b.name(name)
        .r#type(LoadBalancerTypeEnum::Application)
        .set_scheme(str_attr(attrs, "scheme").map(LoadBalancerSchemeEnum::from))
        .set_ip_address_type(str_attr(attrs, "ip_address_type").map(IpAddressType::from))
        .set_subnets(Some(ids(attrs, "subnets")))
        .set_security_groups(Some(ids(attrs, "security_groups")).filter(|v| !v.is_empty()))
        .set_tags(Some(tags_for(c.stack, c.address, attrs.get("tags"))))
}

/// The attribute changes from `before` to `after`.
fn attribute_changes(before: &Attrs, after: &Attrs) -> Vec<LoadBalancerAttribute> {
    let mut changes = Vec::new();
    if let (Some(v), true) =
        (after.get("idle_timeout").and_then(Value::as_int), before.get("idle_timeout") != after.get("idle_timeout"))
    {
        changes.push(LoadBalancerAttribute::builder().key(IDLE).value(v.to_string()).build());
    }
    for (name, key) in SWITCHES {
        if let (Some(v), true) = (after.get(name).and_then(Value::as_bool), before.get(name) != after.get(name)) {
            changes.push(LoadBalancerAttribute::builder().key(key).value(v.to_string()).build());
        }
    }
    // Left out, the logs stop and the bucket is named no more.
    if before.get("access_logs") != after.get("access_logs") {
        let logs = after.get("access_logs").and_then(Value::as_map);
        for (key, member) in LOGS {
            let value = match (logs.and_then(|m| m.get(member)), member) {
                (Some(Value::Bool(b)), _) => b.to_string(),
                (Some(Value::Str(s)), _) => s.clone(),
                (None, "enabled") => logs.is_some().to_string(),
                _ => String::new(),
            };
            changes.push(LoadBalancerAttribute::builder().key(key).value(value).build());
        }
    }
    changes
}

fn ids(attrs: &Attrs, name: &str) -> Vec<String> {
    list_attr(attrs, name).iter().filter_map(Value::as_str).map(str::to_string).collect()
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "name", |name| async move {
        aws.call(Call::ElbCreateLoadBalancer).await;
        let out = request(aws.once.elb.create_load_balancer(), c, name).send().await.map_err(aws_err)?;
        out.load_balancers()
            .first()
            .and_then(|l| l.load_balancer_arn())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateLoadBalancer returned no ARN"))
    })
    .await
}

async fn wait_active(aws: &Aws, id: &str) -> Result<(), ProviderError> {
    retry_until(aws, aws.timeouts.ready, &format!("load balancer {id}"), Until::Active, || async {
        aws.call(Call::ElbDescribe).await;
        let lbs = read(aws, vec![id.to_string()]).await?;
        let state = lbs.first().and_then(|l| l.state()).and_then(|s| s.code()).cloned();
        match state {
            Some(LoadBalancerStateEnum::Active) => Ok(Some(())),
            Some(LoadBalancerStateEnum::Failed) => {
                Err(ProviderError::new(Some("LoadBalancerFailed"), format!("load balancer {id} failed to provision")))
            }
            _ => Ok(None),
        }
    })
    .await
}

async fn set_attributes(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let changes = attribute_changes(before, after);
    if !changes.is_empty() {
        aws.call(Call::ElbMutate).await;
        aws.elb
            .modify_load_balancer_attributes()
            .load_balancer_arn(id)
            .set_attributes(Some(changes))
            .send()
            .await
            .map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    wait_active(aws, id).await?;
    // Set explicitly, even to AWS's defaults, so that every endpoint reports them.
    set_attributes(aws, id, &Attrs::new(), attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    if let (Some(t), true) = (str_attr(after, "ip_address_type"), before.get("ip_address_type") != after.get("ip_address_type")) {
        aws.call(Call::ElbMutate).await;
        aws.elb.set_ip_address_type().load_balancer_arn(id).ip_address_type(IpAddressType::from(t)).send().await.map_err(aws_err)?;
    }
    if before.get("subnets") != after.get("subnets") {
        aws.call(Call::ElbMutate).await;
        aws.elb
            .set_subnets()
            .load_balancer_arn(id)
            .set_subnets(Some(ids(after, "subnets")))
            .send()
            .await
            .map_err(aws_err)?;
    }
    if after.get("security_groups").is_some() && before.get("security_groups") != after.get("security_groups") {
        aws.call(Call::ElbMutate).await;
        aws.elb
            .set_security_groups()
            .load_balancer_arn(id)
            .set_security_groups(Some(ids(after, "security_groups")))
            .send()
            .await
            .map_err(aws_err)?;
    }
    set_attributes(aws, id, before, after).await?;
    wait_active(aws, id).await
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    // Its listeners go with it. Its network interfaces linger for a while and block the
    // deletes of its subnets and security groups: those retry on DependencyViolation.
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::ElbMutate).await;
        aws.elb.delete_load_balancer().load_balancer_arn(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::types::AvailabilityZone;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &[
        "name",
        "scheme",
        "ip_address_type",
        "subnets",
        "security_groups",
        "idle_timeout",
        "deletion_protection",
        "drop_invalid_header_fields",
        "preserve_host_header",
        "access_logs",
        "tags",
    ];

    proptest! {
        #[test]
        fn a_load_balancer_comes_back_as_it_was_made(attrs in roundtrip::attrs("load_balancer", ALL, vec![])) {
            let address = roundtrip::address("load_balancer");
            let name = str_attr(&attrs, "name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::elb().create_load_balancer(), &roundtrip::create(&address, &attrs), name);
            let i = sent.as_input();
            let zones = i.get_subnets().iter().flatten().map(|s| AvailabilityZone::builder().subnet_id(s).build());
            let answer = LoadBalancer::builder()
                .set_load_balancer_name(i.get_name().clone())
                .set_scheme(i.get_scheme().clone())
                .set_ip_address_type(i.get_ip_address_type().clone())
                .set_availability_zones(Some(zones.collect()))
                .set_security_groups(i.get_security_groups().clone())
                .build();
            // Its attributes as the configure call sets them, read back as text.
            let set = attribute_changes(&Attrs::new(), &attrs);
            let attr = |key: &str| set.iter().find(|a| a.key() == Some(key)).and_then(|a| a.value());
            let idle = attr(IDLE).and_then(|v| v.parse::<i64>().ok()).map(Value::Int).unwrap_or(Value::Null);
            let switches = SWITCHES.map(|(name, key)| (name, attr(key).map(|v| Value::Bool(v == "true")).unwrap_or(Value::Null)));
            let tags = roundtrip::tag_pairs(i.get_tags().iter().flatten().map(|t| (t.key(), t.value())));
            let logs = logs_value(attr);
            let mut back = described_with("arn:lb", tags, observe("arn:lb", &answer, idle, switches, logs)).attrs;
            // Left out, the name is generated and the groups are AWS's choice.
            for chosen in ["name", "security_groups"] {
                if !attrs.contains_key(chosen) {
                    back.remove(chosen);
                }
            }
            gives_back(&attrs, &back, ALL)?;
        }
    }
}
