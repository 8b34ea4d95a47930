//! `efs_mount_target`: a file system's address in one subnet. EFS takes no tags on
//! mount targets: they are read by the ids the state holds, and a create whose
//! answer was lost is found as the file system's mount target in the create's subnet
//! (EFS allows one per zone, so that one is the create's).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_efs::operation::create_mount_target::builders::CreateMountTargetFluentBuilder;
use aws_sdk_efs::types::{LifeCycleState, MountTargetDescription};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::progress::Until;
use crate::service::Service;
use crate::util::{
    all_tags, aws_err, described_with, is_code, list_attr, retry_until, str_attr, Described, Select, NOT_FOUND,
};

/// The AWS side of `efs_mount_target`.
pub(crate) struct Ops;

/// A mount target takes a minute or two to become available, and as long to go.
const READY: Duration = Duration::from_secs(600);

async fn one(aws: &Aws, id: &str) -> Result<Option<MountTargetDescription>, ProviderError> {
    aws.call(Call::Efs).await;
    match aws.efs.describe_mount_targets().mount_target_id(id).send().await.map_err(aws_err) {
        Ok(o) => Ok(o.mount_targets().first().cloned()),
        Err(e) if is_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(e),
    }
}

fn gone(m: &MountTargetDescription) -> bool {
    matches!(m.life_cycle_state(), LifeCycleState::Deleted | LifeCycleState::Deleting)
}

async fn groups(aws: &Aws, id: &str) -> Result<Vec<String>, ProviderError> {
    aws.call(Call::Efs).await;
    let out = aws.efs.describe_mount_target_security_groups().mount_target_id(id).send().await.map_err(aws_err)?;
    Ok(out.security_groups().to_vec())
}

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::EFS_MOUNT_TARGETS
    }
    /// By id only: a stack read finds none, having no tags to go by.
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for id in ids {
            let Some(m) = one(aws, id).await?.filter(|m| !gone(m)) else { continue };
            let sgs = match groups(aws, id).await {
                Ok(g) => g,
                Err(e) if is_code(&e, NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            out.push(described_with(id, Default::default(), observe(&m, &sgs)));
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        aws.call(Call::Efs).await;
        let out = request(aws.once.efs.create_mount_target(), c.attrs).send().await.map_err(aws_err)?;
        Ok(out.mount_target_id().to_string())
    }
    /// The file system's mount target in the create's subnet, taken as this address's.
    async fn find_created(&self, aws: &Aws, c: &Create<'_>) -> Result<Vec<Described>, ProviderError> {
        let (Some(fs), Some(subnet)) = (str_attr(c.attrs, "file_system_id"), str_attr(c.attrs, "subnet_id")) else {
            return Ok(Vec::new());
        };
        aws.call(Call::Efs).await;
        let out = aws.efs.describe_mount_targets().file_system_id(fs).send().await.map_err(aws_err)?;
        let mut found = Vec::new();
        for m in out.mount_targets().iter().filter(|m| m.subnet_id() == subnet && !gone(m)) {
            let sgs = groups(aws, m.mount_target_id()).await?;
            found.push(described_with(m.mount_target_id(), all_tags(c.stack, c.address, None), observe(m, &sgs)));
        }
        Ok(found)
    }
    async fn configure(&self, aws: &Aws, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        retry_until(aws, READY, &format!("mount target {id}"), Until::Available, || async {
            Ok(one(aws, id).await?.filter(|m| *m.life_cycle_state() == LifeCycleState::Available).map(|_| ()))
        })
        .await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        if before.get("security_groups") != after.get("security_groups") {
            aws.call(Call::Efs).await;
            let sgs = list_attr(after, "security_groups").iter().filter_map(Value::as_str).map(str::to_string).collect();
            aws.efs.modify_mount_target_security_groups().mount_target_id(id).set_security_groups(Some(sgs)).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    /// Deletes it and waits until EFS no longer lists it: its file system, subnet and
    /// security groups cannot go before.
    async fn delete(&self, aws: &Aws, _address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        aws.call(Call::Efs).await;
        match aws.efs.delete_mount_target().mount_target_id(id).send().await.map_err(aws_err) {
            Ok(_) => {}
            Err(e) if is_code(&e, NOT_FOUND) => return Ok(()),
            Err(e) => return Err(e),
        }
        retry_until(aws, READY, &format!("mount target {id}"), Until::Deleted, || async {
            Ok(one(aws, id).await?.filter(|m| *m.life_cycle_state() != LifeCycleState::Deleted).is_none().then_some(()))
        })
        .await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("EFS does not tag mount targets: `trellis import` one by its id")
    }
}

fn observe(m: &MountTargetDescription, sgs: &[String]) -> Vec<(&'static str, Value)> {
    let text = |s: Option<&str>| s.map(Value::str).unwrap_or(Value::Null);
    vec![
        ("file_system_id", Value::str(m.file_system_id())),
        ("subnet_id", Value::str(m.subnet_id())),
        ("ip_address", text(m.ip_address())),
        ("security_groups", Value::List(sgs.iter().map(Value::str).collect())),
        ("availability_zone_name", text(m.availability_zone_name())),
        ("network_interface_id", text(m.network_interface_id())),
    ]
}

fn request(b: CreateMountTargetFluentBuilder, attrs: &Attrs) -> CreateMountTargetFluentBuilder {
    let mut b = b
        .set_file_system_id(str_attr(attrs, "file_system_id").map(str::to_string))
        .set_subnet_id(str_attr(attrs, "subnet_id").map(str::to_string))
        .set_ip_address(str_attr(attrs, "ip_address").map(str::to_string));
    let sgs: Vec<String> = list_attr(attrs, "security_groups").iter().filter_map(Value::as_str).map(str::to_string).collect();
    if !sgs.is_empty() {
        b = b.set_security_groups(Some(sgs));
    }
    b
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const MADE: &[&str] = &["file_system_id", "subnet_id", "ip_address", "security_groups"];

    proptest! {
        #[test]
        fn a_mount_target_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("efs_mount_target", MADE, vec![
                ("file_system_id", "fs-[0-9a-f]{8}".prop_map(Value::Str).boxed()),
                ("subnet_id", "subnet-[0-9a-f]{8}".prop_map(Value::Str).boxed()),
                ("ip_address", "10\\.0\\.[0-9]{1,2}\\.[0-9]{1,2}".prop_map(Value::Str).boxed()),
                ("security_groups", proptest::collection::vec("sg-[0-9a-f]{8}".prop_map(Value::Str), 1..5).prop_map(Value::List).boxed()),
            ]),
        ) {
            let client = roundtrip::config(|c| aws_sdk_efs::Client::new(&c));
            let sent = request(client.create_mount_target(), &attrs);
            let input = sent.as_input();
            let m = MountTargetDescription::builder()
                .mount_target_id("fsmt-12345678")
                .file_system_id(input.get_file_system_id().clone().unwrap_or_default())
                .subnet_id(input.get_subnet_id().clone().unwrap_or_default())
                .life_cycle_state(LifeCycleState::Available)
                .set_ip_address(input.get_ip_address().clone())
                .build()
                .unwrap();
            let sgs = input.get_security_groups().clone().unwrap_or_default();
            let back = described_with("fsmt-12345678", Default::default(), observe(&m, &sgs)).attrs;
            let mut want = attrs.clone();
            // Left out, the group is the VPC's default one, which AWS names.
            want.entry("security_groups".to_string()).or_insert(Value::List(Vec::new()));
            gives_back(&want, &back, MADE)?;
        }
    }
}
