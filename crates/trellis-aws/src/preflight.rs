//! Pre-flight answers: the planner's questions about the live account (images, objects
//! named by a literal id, fixed names, free addresses), each kind of question in one
//! batched read where AWS offers one, objects through their kind's own describe.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;
use trellis_core::preflight::{Answers, Questions};
use trellis_core::{kinds, ProviderError};

use crate::aws::Aws;
use crate::util::{pages, Select};

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
        for (_, kind, name) in &q.names {
            let Some(ops) = kinds::get(kind).and_then(crate::kinds::ops) else { continue };
            if let Some(id) = ops.named(self, name).await? {
                a.taken.push((kind.to_string(), name.clone(), id));
            }
        }
        if !q.subnets.is_empty() {
            let filter = Filter::builder().name("subnet-id").set_values(Some(q.subnets.clone())).build();
            let out = pages(self, self.ec2.describe_subnets().filters(filter).into_paginator().send()).await?;
            a.free_addresses.extend(
                out.iter()
                    .flat_map(|p| p.subnets())
                    .filter_map(|s| Some((s.subnet_id()?.to_string(), i64::from(s.available_ip_address_count()?)))),
            );
        }
        Ok(a)
    }
}
