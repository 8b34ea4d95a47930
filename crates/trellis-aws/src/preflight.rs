//! Pre-flight answers: the planner's questions about the live account (images, objects
//! named by a literal id, fixed names, free addresses), each kind of question in one
//! batched read where AWS offers one, objects through their kind's own describe.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{AccountAttributeName, Filter, LocationType};
use trellis_core::preflight::{Answers, Questions};
use trellis_core::{kinds, ProviderError};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{aws_err, pages, Select};

impl Aws {
    /// Answers the plan's pre-flight questions.
    pub async fn preflight(&self, q: &Questions) -> Result<Answers, ProviderError> {
        let mut a = Answers::default();
        let mut images: Vec<String> = q.images.iter().map(|(_, i)| i.clone()).collect();
        images.sort();
        images.dedup();
        for chunk in images.chunks(200) {
            let filter = Filter::builder().name("image-id").set_values(Some(chunk.to_vec())).build();
            let out = pages(self, self.ec2.describe_images().filters(filter).into_paginator().send()).await?;
            a.images.extend(out.iter().flat_map(|p| p.images()).filter_map(|i| i.image_id()).map(str::to_string));
        }
        let mut by_kind: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (_, kind, id) in &q.objects {
            by_kind.entry(kind).or_default().push(id.clone());
        }
        for (kind, mut ids) in by_kind {
            ids.sort();
            ids.dedup();
            let Some(ops) = kinds::get(kind).and_then(crate::kinds::ops) else { continue };
            let found = ops.describe(self, Select::Ids(&ids)).await?;
            a.objects.extend(found.into_iter().map(|d| (kind.to_string(), d.id)));
        }
        let mut usable: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (_, kind, id) in &q.usable {
            usable.entry(kind).or_default().push(id.clone());
        }
        for (kind, mut ids) in usable {
            ids.sort();
            ids.dedup();
            let Some(k) = kinds::get(kind) else { continue };
            let (Some(ops), Some((attr, want))) = (crate::kinds::ops(k), k.usable_when) else { continue };
            // What AWS does not show under the kind (another service's id) is not judged.
            let found = match ops.describe(self, Select::Ids(&ids)).await {
                Ok(found) => found,
                Err(e)
                    if crate::util::is_code(&e, crate::util::NOT_FOUND)
                        || crate::util::is_code(&e, &["ValidationException"]) =>
                {
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            for d in found {
                let shows = d.attrs.get(attr).and_then(trellis_core::Value::as_str).unwrap_or("none").to_string();
                if shows != want {
                    a.unusable.push((kind.to_string(), d.id, shows));
                }
            }
        }
        for (_, kind, name) in &q.names {
            let Some(ops) = kinds::get(kind).and_then(crate::kinds::ops) else { continue };
            if let Some(id) = ops.named(self, name).await? {
                a.taken.push((kind.to_string(), name.clone(), id));
            }
        }
        if !q.subnets.is_empty() {
            let filter = Filter::builder().name("subnet-id").set_values(Some(q.subnets.clone())).build();
            let out = pages(self, self.ec2.describe_subnets().filters(filter).into_paginator().send()).await?;
            for s in out.iter().flat_map(|p| p.subnets()) {
                let Some(id) = s.subnet_id() else { continue };
                if let Some(n) = s.available_ip_address_count() {
                    a.free_addresses.push((id.to_string(), i64::from(n)));
                }
                if let Some(z) = s.availability_zone() {
                    a.subnet_zones.push((id.to_string(), z.to_string()));
                }
            }
        }
        if !q.instance_types.is_empty() {
            let filter = Filter::builder().name("instance-type").set_values(Some(q.instance_types.clone())).build();
            let call = self
                .ec2
                .describe_instance_type_offerings()
                .location_type(LocationType::AvailabilityZone)
                .filters(filter)
                .into_paginator()
                .send();
            for p in pages(self, call).await? {
                a.offered.extend(
                    p.instance_type_offerings()
                        .iter()
                        .filter_map(|o| Some((o.instance_type()?.as_str().to_string(), o.location()?.to_string()))),
                );
            }
        }
        for limit in &q.limits {
            if let Some(quota) = limit.strip_prefix("rds:") {
                self.call(Call::Rds).await;
                let out = self.rds.describe_account_attributes().send().await.map_err(aws_err)?;
                let found = out.account_quotas().iter().find(|a| a.account_quota_name() == Some(quota));
                if let Some(q) = found {
                    a.limits.push((limit.to_string(), q.max().unwrap_or(i64::MAX), q.used().unwrap_or(0)));
                }
                continue;
            }
            self.call(Call::Describe).await;
            let call = self.ec2.describe_account_attributes().attribute_names(AccountAttributeName::from(*limit));
            let out = call.send().await.map_err(aws_err)?;
            let max = out
                .account_attributes()
                .iter()
                .filter(|x| x.attribute_name() == Some(*limit))
                .flat_map(|x| x.attribute_values())
                .filter_map(|v| v.attribute_value()?.parse::<i64>().ok())
                .next();
            let (Some(max), Some(used)) = (max, self.held(limit).await?) else { continue };
            a.limits.push((limit.to_string(), max, used));
        }
        Ok(a)
    }

    /// How many the account holds of what an account attribute caps, where trellis
    /// knows how to count it.
    async fn held(&self, limit: &str) -> Result<Option<i64>, ProviderError> {
        match limit {
            "vpc-max-elastic-ips" => {
                self.call(Call::Describe).await;
                let out = self.ec2.describe_addresses().send().await.map_err(aws_err)?;
                Ok(Some(out.addresses().len() as i64))
            }
            _ => Ok(None),
        }
    }
}
