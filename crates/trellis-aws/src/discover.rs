//! What belongs to a VPC that trellis did not make (`trellis discover`): the ids of
//! every object of the kinds trellis manages that lives in the VPC or serves what does,
//! found with listing calls (a VPC filter where EC2 offers one, the VPC id or subnets
//! the object names otherwise). Each object is then read by id through its kind's own
//! describe, as a refresh reads it, so what discover records is what a plan compares.
//!
//! Left out, because AWS made them with the VPC and they go with it: the default
//! security group, the main route table and the default network ACL; and instances an
//! auto scaling group launched (the group is discovered, not its instances).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::Filter;
use trellis_core::schema::Kind;
use trellis_core::{kinds, ProviderError};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{aws_err, pages, pages_with};

/// The ids found, by kind.
pub type Found = BTreeMap<&'static str, BTreeSet<String>>;

/// Kinds found through what other objects name rather than by listing (they have no
/// VPC): a group's launch template, an instance's key pair and profile, a profile's
/// role, a database's parameter group.
pub static FOLLOWED: &[&Kind] = &[
    &kinds::LAUNCH_TEMPLATE,
    &kinds::KEY_PAIR,
    &kinds::IAM_INSTANCE_PROFILE,
    &kinds::IAM_ROLE,
    &kinds::DB_PARAMETER_GROUP,
];

/// Kinds `discover_vpc` finds by listing what a VPC holds.
pub static LISTED: &[&Kind] = &[
    &kinds::VPC,
    &kinds::SUBNET,
    &kinds::INTERNET_GATEWAY,
    &kinds::ROUTE_TABLE,
    &kinds::NETWORK_ACL,
    &kinds::SECURITY_GROUP,
    &kinds::INSTANCE,
    &kinds::NAT_GATEWAY,
    &kinds::ELASTIC_IP,
    &kinds::LOAD_BALANCER,
    &kinds::LISTENER,
    &kinds::TARGET_GROUP,
    &kinds::TARGET_GROUP_ATTACHMENT,
    &kinds::AUTOSCALING_GROUP,
    &kinds::SCALING_POLICY,
    &kinds::DB_SUBNET_GROUP,
    &kinds::DB_INSTANCE,
];

/// Kinds discover does not find, and why: a test holds every kind to one of the three
/// lists, so a new kind cannot be forgotten here silently.
pub static NOT_DISCOVERED: &[(&Kind, &str)] = &[(
    &kinds::METRIC_ALARM,
    "an alarm belongs to no VPC, and a group's alarms are a trellis setting AWS does not give back",
)];

/// Ids of objects no spec should own although another object names them: AWS's own
/// parameter groups (`default.mysql8.0`).
pub fn owned_by_aws(kind: &Kind, id: &str) -> bool {
    kind.name == kinds::DB_PARAMETER_GROUP.name && id.starts_with("default.")
}

impl Aws {
    /// The VPCs carrying the tag `key=value`.
    pub async fn vpcs_tagged(&self, key: &str, value: &str) -> Result<Vec<String>, ProviderError> {
        let filter = Filter::builder().name(format!("tag:{key}")).values(value).build();
        let out = pages(self, self.ec2.describe_vpcs().filters(filter).into_paginator().send()).await?;
        Ok(out.iter().flat_map(|p| p.vpcs()).filter_map(|v| v.vpc_id()).map(str::to_string).collect())
    }

    /// Every object of the VPC `vpc` (and what serves it) by kind. Objects other objects
    /// name (launch templates, key pairs, instance profiles, roles, parameter groups)
    /// are found by the caller from what it reads, through the references the schema
    /// declares.
    pub async fn discover_vpc(&self, vpc: &str) -> Result<Found, ProviderError> {
        let mut found = Found::new();
        let mut add = |kind: &Kind, id: &str| {
            debug_assert!(LISTED.contains(&kind), "{kind} is found by listing: add it to LISTED");
            found.entry(kind.name).or_default().insert(id.to_string());
        };
        let in_vpc = || Filter::builder().name("vpc-id").values(vpc).build();

        let vpcs = pages(self, self.ec2.describe_vpcs().vpc_ids(vpc).into_paginator().send()).await?;
        if vpcs.iter().all(|p| p.vpcs().is_empty()) {
            return Err(ProviderError::new(Some("InvalidVpcID.NotFound"), format!("there is no VPC {vpc}")));
        }
        add(&kinds::VPC, vpc);
        let subnets = pages(self, self.ec2.describe_subnets().filters(in_vpc()).into_paginator().send()).await?;
        let subnet_ids: BTreeSet<String> =
            subnets.iter().flat_map(|p| p.subnets()).filter_map(|s| s.subnet_id()).map(str::to_string).collect();
        for s in &subnet_ids {
            add(&kinds::SUBNET, s);
        }
        let attached = Filter::builder().name("attachment.vpc-id").values(vpc).build();
        for p in pages(self, self.ec2.describe_internet_gateways().filters(attached).into_paginator().send()).await? {
            p.internet_gateways()
                .iter()
                .filter_map(|g| g.internet_gateway_id())
                .for_each(|id| add(&kinds::INTERNET_GATEWAY, id));
        }
        for p in pages(self, self.ec2.describe_route_tables().filters(in_vpc()).into_paginator().send()).await? {
            for t in p.route_tables() {
                let main = t.associations().iter().any(|a| a.main() == Some(true));
                if let (false, Some(id)) = (main, t.route_table_id()) {
                    add(&kinds::ROUTE_TABLE, id);
                }
            }
        }
        for p in pages(self, self.ec2.describe_network_acls().filters(in_vpc()).into_paginator().send()).await? {
            for a in p.network_acls() {
                if let (false, Some(id)) = (a.is_default() == Some(true), a.network_acl_id()) {
                    add(&kinds::NETWORK_ACL, id);
                }
            }
        }
        for p in pages(self, self.ec2.describe_security_groups().filters(in_vpc()).into_paginator().send()).await? {
            for g in p.security_groups() {
                if let (false, Some(id)) = (g.group_name() == Some("default"), g.group_id()) {
                    add(&kinds::SECURITY_GROUP, id);
                }
            }
        }
        let mut instances = BTreeSet::new();
        for p in pages(self, self.ec2.describe_instances().filters(in_vpc()).into_paginator().send()).await? {
            for i in p.reservations().iter().flat_map(|r| r.instances()) {
                let gone = i
                    .state()
                    .and_then(|s| s.name())
                    .is_some_and(|n| matches!(n.as_str(), "terminated" | "shutting-down"));
                let launched_by_group = i.tags().iter().any(|t| t.key() == Some("aws:autoscaling:groupName"));
                if let (false, false, Some(id)) = (gone, launched_by_group, i.instance_id()) {
                    instances.insert(id.to_string());
                    add(&kinds::INSTANCE, id);
                }
            }
        }
        let mut nat_addresses = BTreeSet::new();
        for p in pages(self, self.ec2.describe_nat_gateways().filter(in_vpc()).into_paginator().send()).await? {
            for g in p.nat_gateways() {
                let deleted = g.state().is_some_and(|s| matches!(s.as_str(), "deleted" | "deleting"));
                if let (false, Some(id)) = (deleted, g.nat_gateway_id()) {
                    add(&kinds::NAT_GATEWAY, id);
                    nat_addresses
                        .extend(g.nat_gateway_addresses().iter().filter_map(|a| a.allocation_id()).map(str::to_string));
                }
            }
        }
        self.call(Call::Describe).await;
        let addresses = self.ec2.describe_addresses().send().await.map_err(aws_err)?;
        for a in addresses.addresses() {
            let ours = a.instance_id().is_some_and(|i| instances.contains(i))
                || a.allocation_id().is_some_and(|id| nat_addresses.contains(id));
            if let (true, Some(id)) = (ours, a.allocation_id()) {
                add(&kinds::ELASTIC_IP, id);
            }
        }

        // Load balancing: ELB and Auto Scaling list everything; what names the VPC or
        // its subnets is kept.
        let lbs =
            pages_with(self, Call::ElbDescribe, self.elb.describe_load_balancers().into_paginator().send()).await?;
        let mut lb_arns = Vec::new();
        for lb in lbs.iter().flat_map(|p| p.load_balancers()) {
            if let (Some(vpc_id), Some(arn)) = (lb.vpc_id(), lb.load_balancer_arn()) {
                if vpc_id == vpc {
                    lb_arns.push(arn.to_string());
                    add(&kinds::LOAD_BALANCER, arn);
                }
            }
        }
        for arn in &lb_arns {
            let call = self.elb.describe_listeners().load_balancer_arn(arn).into_paginator().send();
            for p in pages_with(self, Call::ElbDescribe, call).await? {
                p.listeners().iter().filter_map(|l| l.listener_arn()).for_each(|id| add(&kinds::LISTENER, id));
            }
        }
        let tgs =
            pages_with(self, Call::ElbDescribe, self.elb.describe_target_groups().into_paginator().send()).await?;
        let mut tg_arns = Vec::new();
        for tg in tgs.iter().flat_map(|p| p.target_groups()) {
            if let (Some(vpc_id), Some(arn)) = (tg.vpc_id(), tg.target_group_arn()) {
                if vpc_id == vpc {
                    tg_arns.push(arn.to_string());
                    add(&kinds::TARGET_GROUP, arn);
                }
            }
        }
        for arn in &tg_arns {
            self.call(Call::ElbDescribe).await;
            let health = self.elb.describe_target_health().target_group_arn(arn).send().await.map_err(aws_err)?;
            for target in health.target_health_descriptions().iter().filter_map(|d| d.target()?.id()) {
                // Instances of a group are registered by the group, not by an attachment.
                if instances.contains(target) {
                    add(&kinds::TARGET_GROUP_ATTACHMENT, &format!("{arn}|{target}"));
                }
            }
        }
        let groups =
            pages_with(self, Call::AutoScaling, self.asg.describe_auto_scaling_groups().into_paginator().send())
                .await?;
        let mut group_names = BTreeSet::new();
        for g in groups.iter().flat_map(|p| p.auto_scaling_groups()) {
            let in_subnets =
                g.vpc_zone_identifier().unwrap_or_default().split(',').any(|s| subnet_ids.contains(s.trim()));
            if in_subnets {
                group_names.insert(g.auto_scaling_group_name().unwrap_or_default().to_string());
                add(&kinds::AUTOSCALING_GROUP, g.auto_scaling_group_name().unwrap_or_default());
            }
        }
        if !group_names.is_empty() {
            let policies = pages_with(
                self,
                Call::AutoScaling,
                self.asg.describe_policies().max_records(50).into_paginator().send(),
            )
            .await?;
            for p in policies.iter().flat_map(|p| p.scaling_policies()) {
                if let (true, Some(arn)) =
                    (p.auto_scaling_group_name().is_some_and(|g| group_names.contains(g)), p.policy_arn())
                {
                    add(&kinds::SCALING_POLICY, arn);
                }
            }
        }

        // Databases: subnet groups of the VPC, and the databases in them.
        let subnet_groups =
            pages_with(self, Call::Rds, self.rds.describe_db_subnet_groups().into_paginator().send()).await?;
        let mut group_names = BTreeSet::new();
        for g in subnet_groups.iter().flat_map(|p| p.db_subnet_groups()) {
            if let (Some(true), Some(name)) = (g.vpc_id().map(|v| v == vpc), g.db_subnet_group_name()) {
                group_names.insert(name.to_string());
                add(&kinds::DB_SUBNET_GROUP, name);
            }
        }
        let dbs = pages_with(self, Call::Rds, self.rds.describe_db_instances().into_paginator().send()).await?;
        for d in dbs.iter().flat_map(|p| p.db_instances()) {
            let in_group =
                d.db_subnet_group().and_then(|g| g.db_subnet_group_name()).is_some_and(|n| group_names.contains(n));
            if let (true, Some(name)) = (in_group, d.db_instance_identifier()) {
                add(&kinds::DB_INSTANCE, name);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_followed_or_said_to_be_out_of_reach() {
        for kind in kinds::ALL {
            let places =
                [LISTED.contains(kind), FOLLOWED.contains(kind), NOT_DISCOVERED.iter().any(|(k, _)| k == kind)];
            assert_eq!(places.iter().filter(|p| **p).count(), 1, "discover does not say how it finds {kind}");
        }
    }
}
