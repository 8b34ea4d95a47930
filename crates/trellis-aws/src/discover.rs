//! What belongs to a VPC that trellis did not make (`trellis discover`): the ids of
//! every object of the kinds trellis manages that lives in the VPC or serves what does,
//! found with listing calls (a VPC filter where EC2 offers one, the VPC id or subnets
//! the object names otherwise). Each object is then read by id through its kind's own
//! describe, as a refresh reads it, so what discover records is what a plan compares.
//!
//! Left out, because AWS made them with the VPC and they go with it: the default
//! security group, the main route table and the default network ACL; and instances an
//! auto scaling group launched (the group is discovered, not its instances).

use aws_sdk_ec2::types::Filter;
use trellis_core::schema::Kind;
use trellis_core::ProviderError;

use crate::aws::Aws;
use crate::kinds::{self, Found, FoundBy, InVpc};
use crate::util::pages;

/// How discover finds objects of `kind` (`None`: a kind trellis-aws does not know).
pub fn found_by(kind: &Kind) -> Option<FoundBy> {
    kinds::ops(kind).map(|ops| ops.found_by())
}

/// Ids of objects no spec should own although another object names them: AWS's own
/// parameter groups (`default.mysql8.0`).
pub fn owned_by_aws(kind: &Kind, id: &str) -> bool {
    kind.name == trellis_core::kinds::DB_PARAMETER_GROUP.name && id.starts_with("default.")
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
        for (kind, ops) in kinds::REGISTRY {
            if !matches!(ops.found_by(), FoundBy::Listing) {
                continue;
            }
            let ids = ops.list_in_vpc(self, &InVpc { vpc, found: &found }).await?;
            if !ids.is_empty() {
                found.entry(kind.name).or_default().extend(ids);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use trellis_core::schema::{Kind, Type};

    use super::*;

    fn names(ty: &Type, kind: &str) -> bool {
        match ty {
            Type::Ref(k) => *k == kind,
            Type::List(t) | Type::Set(t) => names(t, kind),
            Type::Object(o) => o.attrs.iter().any(|a| names(&a.ty, kind)),
            _ => false,
        }
    }

    fn refers_to(other: &Kind, kind: &str) -> bool {
        other.object.attrs.iter().any(|a| names(&a.ty, kind))
    }

    /// A kind found through references is named by some other kind's attribute, or
    /// discover could never reach it.
    #[test]
    fn what_is_followed_is_referred_to() {
        for kind in trellis_core::kinds::ALL {
            if !matches!(found_by(kind), Some(FoundBy::Reference)) {
                continue;
            }
            let named = trellis_core::kinds::ALL
                .iter()
                .filter(|other| other.name != kind.name)
                .any(|other| refers_to(other, kind.name));
            assert!(named, "{kind} is found by reference, but no kind refers to it");
        }
    }

    /// Listing keeps to what was found before (a listener to the load balancers found):
    /// every listed kind but the VPC refers to a kind listed before it in the registry.
    #[test]
    fn a_listed_kind_comes_after_what_it_keeps_to() {
        let mut before: Vec<&Kind> = Vec::new();
        for (kind, ops) in kinds::REGISTRY {
            if !matches!(ops.found_by(), FoundBy::Listing) {
                continue;
            }
            if !before.is_empty() {
                assert!(
                    before.iter().any(|b| refers_to(kind, b.name)),
                    "{kind} is listed, but refers to nothing listed before it"
                );
            }
            before.push(kind);
        }
        assert_eq!(before.first().map(|k| k.name), Some("vpc"), "discover starts from the VPC");
    }
}
