//! `db_instance`, a primary or a read replica. Databases come with their tags, so one
//! paginated `DescribeDBInstances` reads them all.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_rds::operation::create_db_instance::builders::CreateDBInstanceFluentBuilder;
use aws_sdk_rds::operation::create_db_instance_read_replica::builders::CreateDBInstanceReadReplicaFluentBuilder;
use aws_sdk_rds::types::{CloudwatchLogsExportConfiguration, DbInstance, Filter};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::progress::{Event, Until};
use crate::service::rds::*;
use crate::util::{
    aws_err, retry_until, bool_attr, create_named, described_with, is_code, list_attr, opt_int, opt_str, pages_with, str_attr,
    Described, Select, NOT_FOUND,
};
use crate::TAG_STACK;

/// How long a database may take to become available, or to go. RDS takes minutes.
const DB_READY: Duration = Duration::from_secs(40 * 60);
const DB_GONE: Duration = Duration::from_secs(60 * 60);

/// The AWS side of `db_instance`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::RDS
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
    /// Tags too: RDS tags by ARN.
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id, attrs).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// The databases in the subnet groups found in the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let groups: Vec<&String> = vpc.ids(&trellis_core::kinds::DB_SUBNET_GROUP).collect();
        let in_group = |d: &DbInstance| {
            d.db_subnet_group().and_then(|g| g.db_subnet_group_name()).is_some_and(|n| groups.iter().any(|g| *g == n))
        };
        Ok(read_instances(aws, None)
            .await?
            .iter()
            .filter(|d| in_group(d))
            .filter_map(|d| d.db_instance_identifier())
            .map(str::to_string)
            .collect())
    }
}

async fn read_instances(aws: &Aws, filter: Option<Filter>) -> Result<Vec<DbInstance>, ProviderError> {
    let stream = aws.rds.describe_db_instances().set_filters(filter.map(|f| vec![f])).max_records(100);
    let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
    Ok(pages.into_iter().flat_map(|p| p.db_instances.unwrap_or_default()).collect())
}

fn observe(d: &DbInstance) -> Vec<(&'static str, Value)> {
    // A change waiting for the maintenance window is what the database will be: the
    // spec asked for it, so it is not planned again.
    let pending = d.pending_modified_values();
    let class = pending.and_then(|p| p.db_instance_class()).or(d.db_instance_class());
    let storage = pending.and_then(|p| p.allocated_storage()).or(d.allocated_storage());
    let storage_type = pending.and_then(|p| p.storage_type()).or(d.storage_type());
    let version = pending.and_then(|p| p.engine_version()).or(d.engine_version());
    let multi_az = pending.and_then(|p| p.multi_az()).or(d.multi_az());
    let retention = pending.and_then(|p| p.backup_retention_period()).or(d.backup_retention_period());
    let mut sgs: Vec<Value> =
        d.vpc_security_groups().iter().filter_map(|g| g.vpc_security_group_id()).map(Value::str).collect();
    trellis_core::schema::normalize_set(&mut sgs);
    let group = d.db_parameter_groups().first();
    vec![
        ("db_instance_identifier", opt_str(d.db_instance_identifier())),
        ("source_db_instance_identifier", opt_str(d.read_replica_source_db_instance_identifier())),
        ("engine", opt_str(d.engine())),
        ("engine_version", opt_str(version)),
        ("db_instance_class", opt_str(class)),
        ("allocated_storage", opt_int(storage)),
        ("storage_type", opt_str(storage_type)),
        ("db_name", opt_str(d.db_name())),
        ("storage_encrypted", d.storage_encrypted().map(Value::Bool).unwrap_or(Value::Null)),
        ("kms_key_id", opt_str(d.kms_key_id())),
        ("master_username", opt_str(d.master_username())),
        ("db_subnet_group_name", opt_str(d.db_subnet_group().and_then(|g| g.db_subnet_group_name()))),
        ("vpc_security_group_ids", Value::List(sgs)),
        ("db_parameter_group_name", opt_str(group.and_then(|g| g.db_parameter_group_name()))),
        ("option_group_name", opt_str(d.option_group_memberships().first().and_then(|m| m.option_group_name()))),
        ("multi_az", multi_az.map(Value::Bool).unwrap_or(Value::Null)),
        ("backup_retention_period", opt_int(retention)),
        ("publicly_accessible", d.publicly_accessible().map(Value::Bool).unwrap_or(Value::Null)),
        ("deletion_protection", d.deletion_protection().map(Value::Bool).unwrap_or(Value::Null)),
        ("preferred_backup_window", opt_str(d.preferred_backup_window())),
        ("preferred_maintenance_window", opt_str(d.preferred_maintenance_window())),
        ("max_allocated_storage", opt_int(d.max_allocated_storage())),
        ("copy_tags_to_snapshot", d.copy_tags_to_snapshot().map(Value::Bool).unwrap_or(Value::Null)),
        ("enable_cloudwatch_logs_exports", {
            let mut logs: Vec<Value> = d.enabled_cloudwatch_logs_exports().iter().map(Value::str).collect();
            trellis_core::schema::normalize_set(&mut logs);
            Value::List(logs)
        }),
        ("monitoring_interval", opt_int(d.monitoring_interval())),
        ("monitoring_role_arn", opt_str(d.monitoring_role_arn())),
        ("auto_minor_version_upgrade", d.auto_minor_version_upgrade().map(Value::Bool).unwrap_or(Value::Null)),
        ("manage_master_user_password", Value::Bool(d.master_user_secret().is_some())),
        ("master_user_secret_kms_key_id", opt_str(d.master_user_secret().and_then(|s| s.kms_key_id()))),
        ("master_user_secret_arn", opt_str(d.master_user_secret().and_then(|s| s.secret_arn()))),
        ("enable_performance_insights", Value::Bool(d.performance_insights_enabled().unwrap_or(false))),
        ("performance_insights_retention_period", opt_int(d.performance_insights_retention_period())),
        ("performance_insights_kms_key_id", opt_str(d.performance_insights_kms_key_id())),
        ("ca_certificate_identifier", opt_str(d.ca_certificate_identifier())),
        ("endpoint", opt_str(d.endpoint().and_then(|e| e.address()))),
        ("port", opt_int(d.endpoint().and_then(|e| e.port()))),
        ("pending_reboot", Value::Bool(group.and_then(|g| g.parameter_apply_status()) == Some("pending-reboot"))),
        ("arn", opt_str(d.db_instance_arn())),
    ]
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = match sel {
        // No tag filter in RDS: every database, with its tags inline, kept if tagged.
        Select::Stack(stack) => read_instances(aws, None)
            .await?
            .into_iter()
            .filter(|d| d.tag_list().iter().any(|t| t.key() == Some(TAG_STACK) && t.value() == Some(stack)))
            .collect(),
        Select::Ids(ids) => {
            let mut out = Vec::new();
            for chunk in ids.chunks(100) {
                let f = Filter::builder().name("db-instance-id").set_values(Some(chunk.to_vec())).build();
                match read_instances(aws, Some(f)).await {
                    Ok(mut found) => out.append(&mut found),
                    Err(e) if is_code(&e, NOT_FOUND) => {}
                    Err(e) => return Err(e),
                }
            }
            out
        }
    };
    Ok(found
        .iter()
        // A database being deleted is as good as gone.
        .filter(|d| d.db_instance_status() != Some("deleting"))
        .map(|d| described_with(d.db_instance_identifier().unwrap_or_default(), tag_map(d.tag_list()), observe(d)))
        .collect())
}

fn int(attrs: &Attrs, name: &str) -> Option<i32> {
    attrs.get(name).and_then(Value::as_int).map(|i| i as i32)
}

fn strs(attrs: &Attrs, name: &str) -> Option<Vec<String>> {
    attrs.get(name).map(|_| list_attr(attrs, name).iter().filter_map(Value::as_str).map(str::to_string).collect())
}

fn string(attrs: &Attrs, name: &str) -> Option<String> {
    str_attr(attrs, name).map(str::to_string)
}

/// The settings of how a database is run that both creates take (a primary's and a
/// replica's builders have the same setters).
macro_rules! with_operations {
    ($b:expr, $attrs:expr) => {
        $b.set_max_allocated_storage(int($attrs, "max_allocated_storage"))
            .set_copy_tags_to_snapshot(bool_attr($attrs, "copy_tags_to_snapshot"))
            .set_enable_cloudwatch_logs_exports(
                strs($attrs, "enable_cloudwatch_logs_exports").filter(|l| !l.is_empty()),
            )
            .set_monitoring_interval(int($attrs, "monitoring_interval"))
            .set_monitoring_role_arn(string($attrs, "monitoring_role_arn"))
            .set_auto_minor_version_upgrade(bool_attr($attrs, "auto_minor_version_upgrade"))
            .set_enable_performance_insights(bool_attr($attrs, "enable_performance_insights"))
            .set_performance_insights_retention_period(int($attrs, "performance_insights_retention_period"))
            .set_performance_insights_kms_key_id(string($attrs, "performance_insights_kms_key_id"))
    };
}

/// The create call of a read replica: the engine, storage, credentials and backups
/// are its source's.
fn replica_request(
    b: CreateDBInstanceReadReplicaFluentBuilder,
    c: &Create<'_>,
    name: &str,
    source: &str,
) -> CreateDBInstanceReadReplicaFluentBuilder {
    let attrs = c.attrs;
    let b = b
        .db_instance_identifier(name)
        .source_db_instance_identifier(source)
        .set_db_instance_class(string(attrs, "db_instance_class"))
        .set_storage_type(string(attrs, "storage_type"))
        .set_db_subnet_group_name(string(attrs, "db_subnet_group_name"))
        .set_vpc_security_group_ids(strs(attrs, "vpc_security_group_ids"))
        .set_db_parameter_group_name(string(attrs, "db_parameter_group_name"))
        .set_multi_az(bool_attr(attrs, "multi_az"))
        .set_publicly_accessible(bool_attr(attrs, "publicly_accessible"))
        .set_deletion_protection(bool_attr(attrs, "deletion_protection"));
    with_operations!(b, attrs).set_tags(Some(rds_tags(c.stack, c.address, attrs.get("tags"))))
}

/// The create call of a database that is not a replica.
fn primary_request(b: CreateDBInstanceFluentBuilder, c: &Create<'_>, name: &str) -> CreateDBInstanceFluentBuilder {
    let attrs = c.attrs;
    let b = b
        .db_instance_identifier(name)
        .set_engine(string(attrs, "engine"))
        .set_engine_version(string(attrs, "engine_version"))
        .set_db_instance_class(string(attrs, "db_instance_class"))
        .set_allocated_storage(int(attrs, "allocated_storage"))
        .set_storage_type(string(attrs, "storage_type"))
        .set_db_name(string(attrs, "db_name"))
        .set_storage_encrypted(bool_attr(attrs, "storage_encrypted"))
        .set_kms_key_id(string(attrs, "kms_key_id"))
        .set_master_username(string(attrs, "master_username"))
        .set_master_user_password(string(attrs, "master_user_password"))
        .set_db_subnet_group_name(string(attrs, "db_subnet_group_name"))
        .set_vpc_security_group_ids(strs(attrs, "vpc_security_group_ids"))
        .set_db_parameter_group_name(string(attrs, "db_parameter_group_name"))
        .set_option_group_name(string(attrs, "option_group_name"))
        .set_multi_az(bool_attr(attrs, "multi_az"))
        .set_backup_retention_period(int(attrs, "backup_retention_period"))
        .set_publicly_accessible(bool_attr(attrs, "publicly_accessible"))
        .set_deletion_protection(bool_attr(attrs, "deletion_protection"))
        .set_preferred_backup_window(string(attrs, "preferred_backup_window"))
        .set_preferred_maintenance_window(string(attrs, "preferred_maintenance_window"))
        .set_manage_master_user_password(bool_attr(attrs, "manage_master_user_password").filter(|m| *m))
        .set_master_user_secret_kms_key_id(string(attrs, "master_user_secret_kms_key_id"))
        .set_ca_certificate_identifier(string(attrs, "ca_certificate_identifier"));
    with_operations!(b, attrs).set_tags(Some(rds_tags(c.stack, c.address, attrs.get("tags"))))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let attrs = c.attrs;
    create_named(c, "db_instance_identifier", |name| async move {
        let name = lower(name);
        aws.call(Call::Rds).await;
        let out = match str_attr(attrs, "source_db_instance_identifier") {
            Some(source) => {
                replica_request(aws.once.rds.create_db_instance_read_replica(), c, &name, source)
                    .send()
                    .await
                    .map_err(aws_err)?
                    .db_instance
            }
            None => {
                primary_request(aws.once.rds.create_db_instance(), c, &name).send().await.map_err(aws_err)?.db_instance
            }
        };
        out.and_then(|d| d.db_instance_identifier)
            .ok_or_else(|| ProviderError::new(None, "RDS returned no database identifier"))
    })
    .await
}

/// Waits until the database is `available` (RDS takes minutes to create or modify one).
async fn wait_available(aws: &Aws, id: &str) -> Result<DbInstance, ProviderError> {
    let start = Instant::now();
    let mut said = String::new();
    loop {
        let f = Filter::builder().name("db-instance-id").values(id).build();
        let found = read_instances(aws, Some(f)).await?.into_iter().next();
        let status = found.as_ref().and_then(|d| d.db_instance_status()).unwrap_or("not visible yet").to_string();
        if let Some(d) = found.filter(|_| status == "available") {
            return Ok(d);
        }
        if start.elapsed() > DB_READY {
            return Err(ProviderError::new(
                Some("Timeout"),
                format!("database {id} was still `{status}` after {} minutes", DB_READY.as_secs() / 60),
            ));
        }
        if status != said {
            aws.tell(Event::Waiting {
                subject: format!("db_instance {id}"),
                until: Until::Available,
                now: Some(status.clone()),
            });
            said = status;
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let db = wait_available(aws, id).await?;
    // A replica is made with its source's backup retention; the spec may want another.
    let want = int(attrs, "backup_retention_period");
    if want.is_some() && want != db.backup_retention_period() {
        aws.call(Call::Rds).await;
        aws.rds
            .modify_db_instance()
            .db_instance_identifier(id)
            .set_backup_retention_period(want)
            .apply_immediately(true)
            .send()
            .await
            .map_err(aws_err)?;
        wait_available(aws, id).await?;
    }
    Ok(())
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    // A replica whose source the spec dropped is promoted first: the rest of the
    // update then applies to a database of its own.
    let source = "source_db_instance_identifier";
    if str_attr(before, source).is_some() && str_attr(after, source).is_none() {
        aws.call(Call::Rds).await;
        let call = aws.rds.promote_read_replica().db_instance_identifier(id);
        call.set_backup_retention_period(int(after, "backup_retention_period")).send().await.map_err(aws_err)?;
        retry_until(aws, aws.timeouts.ready, &format!("database {id}"), Until::Available, || async {
            let db = wait_available(aws, id).await?;
            Ok(db.read_replica_source_db_instance_identifier().is_none().then_some(()))
        })
        .await?;
    }
    let changed = |name: &str| after.get(name).is_some() && before.get(name) != after.get(name);
    let mut m = aws.rds.modify_db_instance().db_instance_identifier(id);
    let mut any = false;
    macro_rules! set {
        ($attr:literal, $setter:ident, $value:expr) => {
            if changed($attr) {
                m = m.$setter($value);
                any = true;
            }
        };
    }
    set!("db_instance_class", set_db_instance_class, string(after, "db_instance_class"));
    set!("allocated_storage", set_allocated_storage, int(after, "allocated_storage"));
    set!("storage_type", set_storage_type, string(after, "storage_type"));
    set!("engine_version", set_engine_version, string(after, "engine_version"));
    set!("master_user_password", set_master_user_password, string(after, "master_user_password"));
    set!("db_subnet_group_name", set_db_subnet_group_name, string(after, "db_subnet_group_name"));
    set!("vpc_security_group_ids", set_vpc_security_group_ids, strs(after, "vpc_security_group_ids"));
    set!("db_parameter_group_name", set_db_parameter_group_name, string(after, "db_parameter_group_name"));
    set!("option_group_name", set_option_group_name, string(after, "option_group_name"));
    set!("multi_az", set_multi_az, bool_attr(after, "multi_az"));
    set!("backup_retention_period", set_backup_retention_period, int(after, "backup_retention_period"));
    set!("publicly_accessible", set_publicly_accessible, bool_attr(after, "publicly_accessible"));
    set!("deletion_protection", set_deletion_protection, bool_attr(after, "deletion_protection"));
    set!("preferred_backup_window", set_preferred_backup_window, string(after, "preferred_backup_window"));
    set!("preferred_maintenance_window", set_preferred_maintenance_window, string(after, "preferred_maintenance_window"));
    set!("max_allocated_storage", set_max_allocated_storage, int(after, "max_allocated_storage"));
    set!("copy_tags_to_snapshot", set_copy_tags_to_snapshot, bool_attr(after, "copy_tags_to_snapshot"));
    set!("monitoring_interval", set_monitoring_interval, int(after, "monitoring_interval"));
    set!("monitoring_role_arn", set_monitoring_role_arn, string(after, "monitoring_role_arn"));
    set!("auto_minor_version_upgrade", set_auto_minor_version_upgrade, bool_attr(after, "auto_minor_version_upgrade"));
    set!("enable_performance_insights", set_enable_performance_insights, bool_attr(after, "enable_performance_insights"));
    set!(
        "performance_insights_retention_period",
        set_performance_insights_retention_period,
        int(after, "performance_insights_retention_period")
    );
    set!("performance_insights_kms_key_id", set_performance_insights_kms_key_id, string(after, "performance_insights_kms_key_id"));
    set!("ca_certificate_identifier", set_ca_certificate_identifier, string(after, "ca_certificate_identifier"));
    set!("manage_master_user_password", set_manage_master_user_password, bool_attr(after, "manage_master_user_password"));
    set!("master_user_secret_kms_key_id", set_master_user_secret_kms_key_id, string(after, "master_user_secret_kms_key_id"));
    if changed("enable_cloudwatch_logs_exports") {
        // The logs to start and to stop sending, as ModifyDBInstance takes them.
        let (was, now) = (strs(before, "enable_cloudwatch_logs_exports"), strs(after, "enable_cloudwatch_logs_exports"));
        let (was, now) = (was.unwrap_or_default(), now.unwrap_or_default());
        let config = CloudwatchLogsExportConfiguration::builder()
            .set_enable_log_types(Some(now.iter().filter(|l| !was.contains(l)).cloned().collect()))
            .set_disable_log_types(Some(was.iter().filter(|l| !now.contains(l)).cloned().collect()))
            .build();
        m = m.cloudwatch_logs_export_configuration(config);
        any = true;
    }
    if any {
        aws.call(Call::Rds).await;
        m.apply_immediately(bool_attr(after, "apply_immediately").unwrap_or(false)).send().await.map_err(aws_err)?;
    }
    sync_tags(aws, before, after).await?;
    let db = wait_available(aws, id).await?;
    let pending = db.db_parameter_groups().iter().any(|g| g.parameter_apply_status() == Some("pending-reboot"));
    if pending && bool_attr(after, "reboot_for_parameters") == Some(true) {
        aws.tell(Event::RebootingForParameters { id: id.to_string() });
        aws.call(Call::Rds).await;
        aws.rds.reboot_db_instance().db_instance_identifier(id).send().await.map_err(aws_err)?;
        wait_available(aws, id).await?;
    }
    Ok(())
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let skip = bool_attr(attrs, "skip_final_snapshot").unwrap_or(false);
    let snapshot = if skip { None } else { string(attrs, "final_snapshot_identifier") };
    if !skip && snapshot.is_none() {
        return Err(ProviderError::new(
            None,
            format!("{address}: no final snapshot name and `skip_final_snapshot` is not set; refusing to delete"),
        ));
    }
    aws.call(Call::Rds).await;
    let sent = aws
        .rds
        .delete_db_instance()
        .db_instance_identifier(id)
        .skip_final_snapshot(skip)
        .set_final_db_snapshot_identifier(snapshot)
        .send()
        .await
        .map_err(aws_err);
    match sent {
        Ok(_) => {}
        Err(e) if is_code(&e, NOT_FOUND) => return Ok(()),
        Err(e) if is_code(&e, &["InvalidDBInstanceState"]) && e.message.contains("already being deleted") => {}
        Err(e) => return Err(e),
    }
    // Gone means gone: its subnet group, security groups and source wait for it.
    let start = Instant::now();
    loop {
        let f = Filter::builder().name("db-instance-id").values(id).build();
        if read_instances(aws, Some(f)).await?.is_empty() {
            return Ok(());
        }
        if start.elapsed() > DB_GONE {
            return Err(ProviderError::new(
                Some("Timeout"),
                format!("database {id} was still being deleted after an hour"),
            ));
        }
        aws.tell(Event::Waiting { subject: format!("{address}: {id}"), until: Until::Deleted, now: None });
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::{DbParameterGroupStatus, DbSubnetGroup, VpcSecurityGroupMembership};
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    /// What a database's create sends and its describe gives back (the password is sent
    /// and never read back).
    const PRIMARY: &[&str] = &[
        "db_instance_identifier",
        "engine",
        "engine_version",
        "db_instance_class",
        "allocated_storage",
        "storage_type",
        "db_name",
        "storage_encrypted",
        "kms_key_id",
        "master_username",
        "db_subnet_group_name",
        "vpc_security_group_ids",
        "db_parameter_group_name",
        "option_group_name",
        "multi_az",
        "backup_retention_period",
        "publicly_accessible",
        "deletion_protection",
        "preferred_backup_window",
        "preferred_maintenance_window",
        "max_allocated_storage",
        "copy_tags_to_snapshot",
        "enable_cloudwatch_logs_exports",
        "monitoring_interval",
        "monitoring_role_arn",
        "auto_minor_version_upgrade",
        "enable_performance_insights",
        "performance_insights_retention_period",
        "performance_insights_kms_key_id",
        "ca_certificate_identifier",
        "manage_master_user_password",
        "master_user_secret_kms_key_id",
        "tags",
    ];

    /// What a replica's create sends: the rest is its source's.
    const REPLICA: &[&str] = &[
        "db_instance_identifier",
        "source_db_instance_identifier",
        "db_instance_class",
        "storage_type",
        "db_subnet_group_name",
        "vpc_security_group_ids",
        "db_parameter_group_name",
        "multi_az",
        "publicly_accessible",
        "deletion_protection",
        "max_allocated_storage",
        "copy_tags_to_snapshot",
        "enable_cloudwatch_logs_exports",
        "monitoring_interval",
        "monitoring_role_arn",
        "auto_minor_version_upgrade",
        "enable_performance_insights",
        "performance_insights_retention_period",
        "performance_insights_kms_key_id",
        "tags",
    ];

    // How a database's answer carries what either create sent.
    fn subnet_group(name: &Option<String>) -> Option<DbSubnetGroup> {
        name.clone().map(|n| DbSubnetGroup::builder().db_subnet_group_name(n).build())
    }

    fn memberships(ids: &Option<Vec<String>>) -> Vec<VpcSecurityGroupMembership> {
        ids.iter().flatten().map(|g| VpcSecurityGroupMembership::builder().vpc_security_group_id(g).build()).collect()
    }

    fn parameter_groups(name: &Option<String>) -> Option<Vec<DbParameterGroupStatus>> {
        name.clone().map(|n| vec![DbParameterGroupStatus::builder().db_parameter_group_name(n).build()])
    }

    /// Left out, the identifier is generated and the groups are AWS's choice (the VPC's
    /// default group).
    fn left_to_aws(sent: &Attrs, back: &mut Attrs) {
        for chosen in ["db_instance_identifier", "vpc_security_group_ids"] {
            if !sent.contains_key(chosen) {
                back.remove(chosen);
            }
        }
    }

    proptest! {
        #[test]
        fn a_database_comes_back_as_it_was_created(attrs in roundtrip::attrs("db_instance", PRIMARY, vec![])) {
            // AWS refuses a secret's key for a password it does not manage.
            let managed = attrs.get("manage_master_user_password") == Some(&Value::Bool(true));
            prop_assume!(managed || !attrs.contains_key("master_user_secret_kms_key_id"));
            let address = roundtrip::address("db_instance");
            let name = str_attr(&attrs, "db_instance_identifier").unwrap_or("generated").to_string();
            let sent = primary_request(roundtrip::rds().create_db_instance(), &roundtrip::create(&address, &attrs), &name);
            let i = sent.as_input();
            let answer = DbInstance::builder()
                .set_db_instance_identifier(i.get_db_instance_identifier().clone())
                .set_engine(i.get_engine().clone())
                .set_engine_version(i.get_engine_version().clone())
                .set_db_instance_class(i.get_db_instance_class().clone())
                .set_allocated_storage(*i.get_allocated_storage())
                .set_storage_type(i.get_storage_type().clone())
                .set_db_name(i.get_db_name().clone())
                .set_master_username(i.get_master_username().clone())
                .set_db_subnet_group(subnet_group(i.get_db_subnet_group_name()))
                .set_vpc_security_groups(Some(memberships(i.get_vpc_security_group_ids())))
                .set_db_parameter_groups(parameter_groups(i.get_db_parameter_group_name()))
                .set_option_group_memberships(i.get_option_group_name().clone().map(|n| {
                    vec![aws_sdk_rds::types::OptionGroupMembership::builder().option_group_name(n).build()]
                }))
                .set_multi_az(*i.get_multi_az())
                .set_backup_retention_period(*i.get_backup_retention_period())
                .set_publicly_accessible(*i.get_publicly_accessible())
                .set_deletion_protection(*i.get_deletion_protection())
                .set_storage_encrypted(*i.get_storage_encrypted())
                .set_kms_key_id(i.get_kms_key_id().clone())
                .set_preferred_backup_window(i.get_preferred_backup_window().clone())
                .set_preferred_maintenance_window(i.get_preferred_maintenance_window().clone())
                .set_max_allocated_storage(*i.get_max_allocated_storage())
                .set_copy_tags_to_snapshot(*i.get_copy_tags_to_snapshot())
                .set_enabled_cloudwatch_logs_exports(i.get_enable_cloudwatch_logs_exports().clone())
                .set_monitoring_interval(*i.get_monitoring_interval())
                .set_monitoring_role_arn(i.get_monitoring_role_arn().clone())
                .set_auto_minor_version_upgrade(*i.get_auto_minor_version_upgrade())
                .set_performance_insights_enabled(*i.get_enable_performance_insights())
                .set_performance_insights_retention_period(*i.get_performance_insights_retention_period())
                .set_performance_insights_kms_key_id(i.get_performance_insights_kms_key_id().clone())
                .set_ca_certificate_identifier(i.get_ca_certificate_identifier().clone())
                .set_master_user_secret((*i.get_manage_master_user_password() == Some(true)).then(|| {
                    aws_sdk_rds::types::MasterUserSecret::builder()
                        .secret_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1")
                        .set_kms_key_id(i.get_master_user_secret_kms_key_id().clone())
                        .build()
                }))
                .set_tag_list(i.get_tags().clone())
                .build();
            let mut back = described_with(&name, tag_map(answer.tag_list()), observe(&answer)).attrs;
            left_to_aws(&attrs, &mut back);
            gives_back(&attrs, &back, PRIMARY)?;
        }

        #[test]
        fn a_replica_comes_back_as_it_was_created(attrs in roundtrip::attrs("db_instance", REPLICA, vec![])) {
            let address = roundtrip::address("db_instance");
            let name = str_attr(&attrs, "db_instance_identifier").unwrap_or("generated").to_string();
            let source = str_attr(&attrs, "source_db_instance_identifier").unwrap_or("source").to_string();
            let create = roundtrip::create(&address, &attrs);
            let sent = replica_request(roundtrip::rds().create_db_instance_read_replica(), &create, &name, &source);
            let i = sent.as_input();
            let answer = DbInstance::builder()
                .set_db_instance_identifier(i.get_db_instance_identifier().clone())
                .set_read_replica_source_db_instance_identifier(i.get_source_db_instance_identifier().clone())
                .set_db_instance_class(i.get_db_instance_class().clone())
                .set_storage_type(i.get_storage_type().clone())
                .set_db_subnet_group(subnet_group(i.get_db_subnet_group_name()))
                .set_vpc_security_groups(Some(memberships(i.get_vpc_security_group_ids())))
                .set_db_parameter_groups(parameter_groups(i.get_db_parameter_group_name()))
                .set_multi_az(*i.get_multi_az())
                .set_publicly_accessible(*i.get_publicly_accessible())
                .set_deletion_protection(*i.get_deletion_protection())
                .set_max_allocated_storage(*i.get_max_allocated_storage())
                .set_copy_tags_to_snapshot(*i.get_copy_tags_to_snapshot())
                .set_enabled_cloudwatch_logs_exports(i.get_enable_cloudwatch_logs_exports().clone())
                .set_monitoring_interval(*i.get_monitoring_interval())
                .set_monitoring_role_arn(i.get_monitoring_role_arn().clone())
                .set_auto_minor_version_upgrade(*i.get_auto_minor_version_upgrade())
                .set_performance_insights_enabled(*i.get_enable_performance_insights())
                .set_performance_insights_retention_period(*i.get_performance_insights_retention_period())
                .set_performance_insights_kms_key_id(i.get_performance_insights_kms_key_id().clone())
                .set_tag_list(i.get_tags().clone())
                .build();
            let mut back = described_with(&name, tag_map(answer.tag_list()), observe(&answer)).attrs;
            left_to_aws(&attrs, &mut back);
            let mut sent_attrs = attrs.clone();
            sent_attrs.insert("source_db_instance_identifier".into(), Value::Str(source));
            gives_back(&sent_attrs, &back, REPLICA)?;
        }
    }
}
