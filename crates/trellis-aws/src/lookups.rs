//! The lookups of `trellis_core::lookup`, read: one describe per lookup, its filters
//! sent as the describe call's own filters (so AWS does the matching), every object that
//! matches returned in the attribute names of the lookup kind. Choosing among them (one,
//! the newest, all) is the kind's rule, in `trellis-core`.

use aws_sdk_ec2::types::{AvailabilityZone, Filter, Image, Instance, RouteTable, SecurityGroup, Subnet, Vpc};
use trellis_core::{Attrs, LookupQuery, ProviderError, Value};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{aws_err, pages};

impl Aws {
    /// [`Aws::lookup`] for each query, all at once (within the rate limits).
    pub async fn lookups(&self, queries: &[LookupQuery]) -> Vec<Result<Vec<Attrs>, ProviderError>> {
        futures_util::future::join_all(queries.iter().map(|q| self.lookup(q))).await
    }

    /// Every object in the account that matches the lookup's filters.
    pub async fn lookup(&self, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
        match q.address.kind.name {
            "vpc" => vpcs(self, q).await,
            "subnet" | "subnets" => subnets(self, q).await,
            "security_group" => security_groups(self, q).await,
            "availability_zones" => zones(self, q).await,
            "ami" => images(self, q).await,
            "route53_zone" => hosted_zones(self, q).await,
            "route_table" => route_tables(self, q).await,
            "instance" => instances(self, q).await,
            "elb_service_account" => elb_service_account(&self.region).map(|a| vec![a]),
            other => Err(ProviderError::new(None, format!("trellis cannot look up a `{other}`"))),
        }
    }
}

/// The value of a filter as the words an EC2 filter takes.
fn words(v: &Value) -> Vec<String> {
    match v {
        Value::Str(s) => vec![s.clone()],
        Value::Bool(b) => vec![b.to_string()],
        Value::Int(i) => vec![i.to_string()],
        Value::List(items) => items.iter().flat_map(words).collect(),
        _ => Vec::new(),
    }
}

/// The query's filters as EC2 filters: each spec filter by `names` (spec name, EC2
/// name); `tags` as one `tag:KEY` filter per tag.
pub(crate) fn ec2_filters(q: &LookupQuery, names: &[(&str, &str)]) -> Vec<Filter> {
    let mut out = Vec::new();
    for (spec, ec2) in names {
        if let Some(v) = q.filters.get(*spec) {
            out.push(Filter::builder().name(*ec2).set_values(Some(words(v))).build());
        }
    }
    if let Some(Value::Map(tags)) = q.filters.get("tags") {
        for (k, v) in tags {
            out.push(Filter::builder().name(format!("tag:{k}")).set_values(Some(words(v))).build());
        }
    }
    out
}

fn s(v: Option<&str>) -> Value {
    v.map_or(Value::Null, Value::str)
}

fn attrs(pairs: Vec<(&str, Value)>) -> Attrs {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

async fn vpcs(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    let filters = ec2_filters(q, &[("id", "vpc-id"), ("default", "is-default"), ("cidr_block", "cidr-block")]);
    let pages = pages(aws, aws.ec2.describe_vpcs().set_filters(Some(filters)).into_paginator().send()).await?;
    Ok(pages.iter().flat_map(|p| p.vpcs()).map(observe_vpc).collect())
}

pub(crate) fn observe_vpc(v: &Vpc) -> Attrs {
    attrs(vec![("id", s(v.vpc_id())), ("cidr_block", s(v.cidr_block())), ("owner_id", s(v.owner_id()))])
}

async fn subnets(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    let filters = ec2_filters(
        q,
        &[
            ("id", "subnet-id"),
            ("vpc_id", "vpc-id"),
            ("availability_zone", "availability-zone"),
            ("default_for_az", "default-for-az"),
            ("cidr_block", "cidr-block"),
        ],
    );
    let pages = pages(aws, aws.ec2.describe_subnets().set_filters(Some(filters)).into_paginator().send()).await?;
    Ok(pages.iter().flat_map(|p| p.subnets()).map(observe_subnet).collect())
}

pub(crate) fn observe_subnet(n: &Subnet) -> Attrs {
    attrs(vec![
        ("id", s(n.subnet_id())),
        ("vpc_id", s(n.vpc_id())),
        ("cidr_block", s(n.cidr_block())),
        ("availability_zone", s(n.availability_zone())),
    ])
}

async fn security_groups(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    let filters = ec2_filters(q, &[("id", "group-id"), ("group_name", "group-name"), ("vpc_id", "vpc-id")]);
    let pages =
        pages(aws, aws.ec2.describe_security_groups().set_filters(Some(filters)).into_paginator().send()).await?;
    Ok(pages.iter().flat_map(|p| p.security_groups()).map(observe_group).collect())
}

pub(crate) fn observe_group(g: &SecurityGroup) -> Attrs {
    attrs(vec![("id", s(g.group_id())), ("group_name", s(g.group_name())), ("vpc_id", s(g.vpc_id()))])
}

async fn zones(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    let filters = ec2_filters(q, &[("state", "state")]);
    aws.call(Call::Describe).await;
    let out = aws.ec2.describe_availability_zones().set_filters(Some(filters)).send().await.map_err(aws_err)?;
    Ok(out.availability_zones().iter().map(observe_zone).collect())
}

pub(crate) fn observe_zone(z: &AvailabilityZone) -> Attrs {
    attrs(vec![("name", s(z.zone_name())), ("zone_id", s(z.zone_id()))])
}

async fn route_tables(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    let filters = ec2_filters(
        q,
        &[
            ("id", "route-table-id"),
            ("vpc_id", "vpc-id"),
            ("subnet_id", "association.subnet-id"),
            ("main", "association.main"),
        ],
    );
    let pages = pages(aws, aws.ec2.describe_route_tables().set_filters(Some(filters)).into_paginator().send()).await?;
    Ok(pages.iter().flat_map(|p| p.route_tables()).map(observe_route_table).collect())
}

pub(crate) fn observe_route_table(t: &RouteTable) -> Attrs {
    attrs(vec![("id", s(t.route_table_id())), ("vpc_id", s(t.vpc_id())), ("owner_id", s(t.owner_id()))])
}

async fn instances(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    let filters = ec2_filters(
        q,
        &[
            ("id", "instance-id"),
            ("vpc_id", "vpc-id"),
            ("subnet_id", "subnet-id"),
            ("instance_state_name", "instance-state-name"),
        ],
    );
    let pages = pages(aws, aws.ec2.describe_instances().set_filters(Some(filters)).into_paginator().send()).await?;
    Ok(pages.iter().flat_map(|p| p.reservations()).flat_map(|r| r.instances()).map(observe_instance).collect())
}

pub(crate) fn observe_instance(i: &Instance) -> Attrs {
    let primary = i.network_interfaces().iter().find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0));
    attrs(vec![
        ("id", s(i.instance_id())),
        ("private_ip", s(i.private_ip_address())),
        ("public_ip", s(i.public_ip_address())),
        ("subnet_id", s(i.subnet_id())),
        ("vpc_id", s(i.vpc_id())),
        ("availability_zone", s(i.placement().and_then(|p| p.availability_zone()))),
        ("instance_type", s(i.instance_type().map(|t| t.as_str()))),
        ("network_interface_id", s(primary.and_then(|n| n.network_interface_id()))),
    ])
}

/// Elastic Load Balancing's log delivery account in each region that has one (AWS's
/// "Enable access logs for your Application Load Balancer", Step 2, the regions
/// available before August 2022); the regions opened since deliver as a service
/// principal.
const ELB_ACCOUNTS: &[(&str, &str)] = &[
    ("us-east-1", "127311923021"),
    ("us-east-2", "033677994240"),
    ("us-west-1", "027434742980"),
    ("us-west-2", "797873946194"),
    ("af-south-1", "098369216593"),
    ("ap-east-1", "754344448648"),
    ("ap-southeast-3", "589379963580"),
    ("ap-south-1", "718504428378"),
    ("ap-northeast-3", "383597477331"),
    ("ap-northeast-2", "600734575887"),
    ("ap-southeast-1", "114774131450"),
    ("ap-southeast-2", "783225319266"),
    ("ap-northeast-1", "582318560864"),
    ("ca-central-1", "985666609251"),
    ("eu-central-1", "054676820928"),
    ("eu-west-1", "156460612806"),
    ("eu-west-2", "652711504416"),
    ("eu-south-1", "635631232127"),
    ("eu-west-3", "009996457667"),
    ("eu-north-1", "897822967062"),
    ("me-south-1", "076674570225"),
    ("sa-east-1", "507241528517"),
    ("us-gov-west-1", "048591011584"),
    ("us-gov-east-1", "190560391635"),
    ("cn-north-1", "638102146993"),
    ("cn-northwest-1", "037604701340"),
];

pub(crate) fn elb_service_account(region: &str) -> Result<Attrs, ProviderError> {
    let Some((_, id)) = ELB_ACCOUNTS.iter().find(|(r, _)| *r == region) else {
        return Err(ProviderError::new(
            None,
            format!(
                "{region} has no Elastic Load Balancing log delivery account: regions opened since August 2022 deliver logs as the service principal; write the bucket policy's `Principal: {{ Service: logdelivery.elasticloadbalancing.amazonaws.com }}` instead"
            ),
        ));
    };
    let partition = if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    };
    Ok(attrs(vec![("id", Value::str(*id)), ("arn", Value::Str(format!("arn:{partition}:iam::{id}:root")))]))
}

/// The hosted zones of that domain (Route53 lists by name from it: the first page
/// holds them), the private or public one if asked.
async fn hosted_zones(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    use crate::service::route53::{bare, plain_name};
    let name = q.filters.get("name").and_then(Value::as_str).unwrap_or_default().trim_end_matches('.').to_lowercase();
    let private = q.filters.get("private_zone").and_then(Value::as_bool);
    aws.call(Call::Route53).await;
    let out = aws.r53.list_hosted_zones_by_name().dns_name(&name).max_items(100).send().await.map_err(aws_err)?;
    let mut found = Vec::new();
    for z in out.hosted_zones() {
        let is_private = z.config().is_some_and(|c| c.private_zone());
        if plain_name(z.name()).to_lowercase() != name || private.is_some_and(|p| p != is_private) {
            continue;
        }
        aws.call(Call::Route53).await;
        let full = aws.r53.get_hosted_zone().id(bare(z.id())).send().await.map_err(aws_err)?;
        let servers = full.delegation_set().map(|d| d.name_servers().to_vec()).unwrap_or_default();
        found.push(attrs(vec![
            ("id", Value::str(bare(z.id()))),
            ("name", Value::Str(plain_name(z.name()))),
            ("name_servers", Value::List(servers.into_iter().map(Value::Str).collect())),
        ]));
    }
    Ok(found)
}

/// By SSM parameter: the parameter's value is the image id, then the image is read for
/// its name and date. By owners and name: every matching image (the kind picks the
/// newest).
async fn images(aws: &Aws, q: &LookupQuery) -> Result<Vec<Attrs>, ProviderError> {
    let describe = aws.ec2.describe_images();
    let describe = if let Some(Value::Str(parameter)) = q.filters.get("ssm_parameter") {
        aws.call(Call::Ssm).await;
        let out = aws.ssm.get_parameter().name(parameter).send().await.map_err(|e| {
            let e = aws_err(e);
            if e.code.as_deref() == Some("ParameterNotFound") {
                ProviderError::new(e.code.as_deref(), format!("no SSM parameter `{parameter}` in {}", aws.region))
            } else {
                e
            }
        })?;
        let Some(id) = out.parameter().and_then(|p| p.value()) else { return Ok(Vec::new()) };
        describe.image_ids(id)
    } else {
        let owners = q.filters.get("owners").map(words).unwrap_or_default();
        describe
            .set_owners(Some(owners))
            .set_filters(Some(ec2_filters(q, &[("name", "name"), ("architecture", "architecture")])))
    };
    aws.call(Call::Describe).await;
    let out = describe.send().await.map_err(aws_err)?;
    Ok(out.images().iter().map(observe_image).collect())
}

pub(crate) fn observe_image(i: &Image) -> Attrs {
    attrs(vec![("id", s(i.image_id())), ("name", s(i.name())), ("creation_date", s(i.creation_date()))])
}

#[cfg(test)]
mod tests {
    use super::*;
    use trellis_core::LookupAddress;

    fn query(kind: &str, filters: &[(&str, Value)]) -> LookupQuery {
        LookupQuery {
            address: LookupAddress::parse(kind, "x").unwrap(),
            filters: filters.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
        }
    }

    #[test]
    fn filters_become_ec2_filters_and_tags_one_each() {
        let tags = Value::Map([("Team".to_string(), Value::str("web"))].into_iter().collect());
        let q = query("vpc", &[("default", Value::Bool(true)), ("tags", tags)]);
        let got = ec2_filters(&q, &[("id", "vpc-id"), ("default", "is-default")]);
        let pairs: Vec<(String, Vec<String>)> =
            got.iter().map(|f| (f.name().unwrap().to_string(), f.values().to_vec())).collect();
        assert_eq!(
            pairs,
            [("is-default".to_string(), vec!["true".to_string()]), ("tag:Team".to_string(), vec!["web".to_string()])]
        );
    }

    #[test]
    fn what_is_read_uses_the_lookup_kinds_names() {
        // Each observe gives exactly the attributes its lookup kind declares (the
        // plural kinds' items: the attributes their lists are made of).
        let vpc = observe_vpc(&Vpc::builder().vpc_id("vpc-1").cidr_block("10.0.0.0/16").owner_id("1").build());
        let subnet = observe_subnet(&Subnet::builder().subnet_id("subnet-1").build());
        let group = observe_group(&SecurityGroup::builder().group_id("sg-1").build());
        let image = observe_image(&Image::builder().image_id("ami-1").build());
        let table = observe_route_table(&RouteTable::builder().route_table_id("rtb-1").build());
        let instance = observe_instance(&Instance::builder().instance_id("i-1").build());
        let elb = elb_service_account("eu-west-1").unwrap();
        assert_eq!(elb["arn"], Value::str("arn:aws:iam::156460612806:root"));
        assert!(elb_service_account("eu-central-2").unwrap_err().message.contains("logdelivery.elasticloadbalancing"));
        for (kind, got) in [
            ("vpc", vpc),
            ("subnet", subnet),
            ("security_group", group),
            ("ami", image),
            ("route_table", table),
            ("instance", instance),
            ("elb_service_account", elb),
        ] {
            let k = trellis_core::lookup::get(kind).unwrap();
            let want: Vec<&str> = k.attrs.iter().map(|a| a.name).collect();
            let mut names: Vec<&str> = got.keys().map(String::as_str).collect();
            names.sort();
            let mut want = want.clone();
            want.sort();
            assert_eq!(names, want, "{kind}");
        }
        let zone = observe_zone(&AvailabilityZone::builder().zone_name("r-1a").zone_id("z1").build());
        let trellis_core::lookup::Pick::All(lists) = trellis_core::lookup::AVAILABILITY_ZONES.pick else { panic!() };
        assert!(lists.iter().all(|(_, item)| zone.contains_key(*item)));
    }
}
