//! RDS: subnet groups, parameter groups and database instances (with read replicas).
//!
//! RDS has no tag filters. Database instances come with their tags, so one paginated
//! `DescribeDBInstances` reads them all. Subnet and parameter groups come without:
//! their tags take a `ListTagsForResource` per group, so a stack read asks only for
//! groups whose name carries the stack's prefix (the names trellis generates); groups
//! the state knows under another name are read by name.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_rds::operation::create_db_instance::builders::CreateDBInstanceFluentBuilder;
use aws_sdk_rds::operation::create_db_instance_read_replica::builders::CreateDBInstanceReadReplicaFluentBuilder;
use aws_sdk_rds::operation::create_db_parameter_group::builders::CreateDBParameterGroupFluentBuilder;
use aws_sdk_rds::operation::create_db_subnet_group::builders::CreateDBSubnetGroupFluentBuilder;
use aws_sdk_rds::types::{ApplyMethod, DbInstance, DbParameterGroup, DbSubnetGroup, Filter, Parameter, Tag};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::Create;
use crate::aws::Aws;
use crate::limits::Call;
use crate::util::Described;
use crate::util::{
    all_tags, aws_err, bool_attr, create_named, delete_with_retry, described_with, is_code, list_attr, opt_int,
    opt_str, pages_with, str_attr, tag_changes, Select, NOT_FOUND,
};
use crate::TAG_STACK;

/// How long a database may take to become available, or to go. RDS takes minutes.
const DB_READY: Duration = Duration::from_secs(40 * 60);
const DB_GONE: Duration = Duration::from_secs(60 * 60);

fn rds_tags(stack: &str, address: &Address, tags: Option<&Value>) -> Vec<Tag> {
    all_tags(stack, address, tags).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

/// The prefix of the names trellis generates for a stack: RDS keeps names in lower case.
fn stack_prefix(stack: &str) -> String {
    let s: String = stack
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    format!("{s}-")
}

/// A name for an RDS object: the spec's, or a generated lower-case one.
fn lower(name: String) -> String {
    name.to_ascii_lowercase()
}

async fn list_tags(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::Rds).await;
    let out = aws.rds.list_tags_for_resource().resource_name(arn).send().await.map_err(aws_err)?;
    Ok(tag_map(out.tag_list()))
}

/// Brings an RDS object's user tags from `before` to `after`; RDS tags by ARN.
async fn sync_tags(aws: &Aws, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    sync_tag_maps(aws, before, before.get("tags"), after.get("tags")).await
}

/// Brings the tags of the object whose ARN `attrs` records from `before` to `after`.
pub(crate) async fn sync_tag_maps(
    aws: &Aws,
    attrs: &Attrs,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let Some(arn) = str_attr(attrs, "arn") else { return Ok(()) };
    let (set, unset) = tag_changes(before, after);
    if !set.is_empty() {
        aws.call(Call::Rds).await;
        let tags = set.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        aws.rds.add_tags_to_resource().resource_name(arn).set_tags(Some(tags)).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        aws.call(Call::Rds).await;
        aws.rds
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(unset))
            .send()
            .await
            .map_err(aws_err)?;
    }
    Ok(())
}

/// Groups of a stack (by name prefix, then by tag) or by name; `read` lists them all
/// or one by name, returning (name, arn, the object).
async fn groups_of<T, F, Fut>(
    aws: &Aws,
    sel: Select<'_>,
    read: F,
) -> Result<Vec<(T, BTreeMap<String, String>)>, ProviderError>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String, T)>, ProviderError>>,
{
    let found: Vec<(String, String, T)> = match sel {
        Select::Stack(stack) => {
            let prefix = stack_prefix(stack);
            read(None).await?.into_iter().filter(|(name, _, _)| name.starts_with(&prefix)).collect()
        }
        Select::Ids(names) => {
            let mut out = Vec::new();
            for name in names {
                match read(Some(name.clone())).await {
                    Ok(mut one) => out.append(&mut one),
                    Err(e) if is_code(&e, NOT_FOUND) => {}
                    Err(e) => return Err(e),
                }
            }
            out
        }
    };
    let mut out = Vec::new();
    for (_, arn, obj) in found {
        let tags = list_tags(aws, &arn).await?;
        if let Select::Stack(stack) = sel {
            if tags.get(TAG_STACK).map(String::as_str) != Some(stack) {
                continue;
            }
        }
        out.push((obj, tags));
    }
    Ok(out)
}

// ---- db_subnet_group ----

pub(crate) async fn describe_subnet_groups(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let groups = groups_of(aws, sel, |name| async move {
        let stream = aws.rds.describe_db_subnet_groups().set_db_subnet_group_name(name).max_records(100);
        let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.db_subnet_groups())
            .map(|g| {
                let n = g.db_subnet_group_name().unwrap_or_default().to_string();
                (n, g.db_subnet_group_arn().unwrap_or_default().to_string(), g.clone())
            })
            .collect())
    })
    .await?;
    Ok(groups
        .into_iter()
        .map(|(g, tags)| described_with(g.db_subnet_group_name().unwrap_or_default(), tags, subnet_group_attrs(&g)))
        .collect())
}

fn subnet_group_attrs(g: &DbSubnetGroup) -> Vec<(&'static str, Value)> {
    let mut subnets: Vec<Value> = g.subnets().iter().filter_map(|s| s.subnet_identifier()).map(Value::str).collect();
    trellis_core::schema::normalize_set(&mut subnets);
    vec![
        ("db_subnet_group_name", opt_str(g.db_subnet_group_name())),
        ("db_subnet_group_description", opt_str(g.db_subnet_group_description())),
        ("subnet_ids", Value::List(subnets)),
        ("arn", opt_str(g.db_subnet_group_arn())),
    ]
}

fn subnet_group_request(
    b: CreateDBSubnetGroupFluentBuilder,
    c: &Create<'_>,
    name: String,
) -> CreateDBSubnetGroupFluentBuilder {
    b.db_subnet_group_name(lower(name))
        .db_subnet_group_description(str_attr(c.attrs, "db_subnet_group_description").unwrap_or("Managed by trellis"))
        .set_subnet_ids(Some(subnet_ids(c.attrs)))
        .set_tags(Some(rds_tags(c.stack, c.address, c.attrs.get("tags"))))
}

fn subnet_ids(attrs: &Attrs) -> Vec<String> {
    list_attr(attrs, "subnet_ids").iter().filter_map(Value::as_str).map(str::to_string).collect()
}

pub(crate) async fn create_subnet_group(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "db_subnet_group_name", |name| async move {
        aws.call(Call::Rds).await;
        let out = subnet_group_request(aws.once.rds.create_db_subnet_group(), c, name).send().await.map_err(aws_err)?;
        out.db_subnet_group()
            .and_then(|g| g.db_subnet_group_name())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateDBSubnetGroup returned no name"))
    })
    .await
}

pub(crate) async fn update_subnet_group(
    aws: &Aws,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    if before.get("db_subnet_group_description") != after.get("db_subnet_group_description")
        || before.get("subnet_ids") != after.get("subnet_ids")
    {
        aws.call(Call::Rds).await;
        aws.rds
            .modify_db_subnet_group()
            .db_subnet_group_name(id)
            .set_db_subnet_group_description(str_attr(after, "db_subnet_group_description").map(str::to_string))
            .set_subnet_ids(Some(subnet_ids(after)))
            .send()
            .await
            .map_err(aws_err)?;
    }
    sync_tags(aws, before, after).await
}

pub(crate) async fn delete_subnet_group(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    // A database being deleted holds its subnet group for a while.
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Rds).await;
        match aws.rds.delete_db_subnet_group().db_subnet_group_name(id).send().await.map_err(aws_err) {
            Err(e) if is_code(&e, NOT_FOUND) => Ok(()),
            other => other.map(|_| ()),
        }
    })
    .await
}

// ---- db_parameter_group ----

/// The parameters a user set in a group (not the engine's defaults).
async fn user_parameters(aws: &Aws, name: &str) -> Result<BTreeMap<String, Value>, ProviderError> {
    let stream = aws.rds.describe_db_parameters().db_parameter_group_name(name).source("user").max_records(100);
    let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.parameters())
        .filter(|p| p.source().is_none_or(|s| s == "user"))
        .filter_map(|p| Some((p.parameter_name()?.to_string(), Value::str(p.parameter_value()?))))
        .collect())
}

pub(crate) async fn describe_parameter_groups(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let groups = groups_of(aws, sel, |name| async move {
        let stream = aws.rds.describe_db_parameter_groups().set_db_parameter_group_name(name).max_records(100);
        let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.db_parameter_groups())
            .map(|g| {
                let n = g.db_parameter_group_name().unwrap_or_default().to_string();
                (n, g.db_parameter_group_arn().unwrap_or_default().to_string(), g.clone())
            })
            .collect())
    })
    .await?;
    let mut out = Vec::new();
    for (g, tags) in groups {
        let name = g.db_parameter_group_name().unwrap_or_default();
        // One group's parameters per call (paginated): AWS offers no batch.
        let params = user_parameters(aws, name).await?;
        out.push(described_with(name, tags, parameter_group_attrs(&g, params)));
    }
    Ok(out)
}

fn parameter_group_attrs(g: &DbParameterGroup, params: BTreeMap<String, Value>) -> Vec<(&'static str, Value)> {
    vec![
        ("db_parameter_group_name", opt_str(g.db_parameter_group_name())),
        ("db_parameter_group_family", opt_str(g.db_parameter_group_family())),
        ("description", opt_str(g.description())),
        ("parameters", Value::Map(params)),
        ("arn", opt_str(g.db_parameter_group_arn())),
    ]
}

fn parameter_group_request(
    b: CreateDBParameterGroupFluentBuilder,
    c: &Create<'_>,
    name: String,
) -> CreateDBParameterGroupFluentBuilder {
    b.db_parameter_group_name(lower(name))
        .db_parameter_group_family(str_attr(c.attrs, "db_parameter_group_family").unwrap_or_default())
        .description(str_attr(c.attrs, "description").unwrap_or("Managed by trellis"))
        .set_tags(Some(rds_tags(c.stack, c.address, c.attrs.get("tags"))))
}

pub(crate) async fn create_parameter_group(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "db_parameter_group_name", |name| async move {
        aws.call(Call::Rds).await;
        let out =
            parameter_group_request(aws.once.rds.create_db_parameter_group(), c, name).send().await.map_err(aws_err)?;
        out.db_parameter_group()
            .and_then(|g| g.db_parameter_group_name())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateDBParameterGroup returned no name"))
    })
    .await
}

fn params_of(attrs: &Attrs) -> BTreeMap<String, String> {
    crate::util::tag_map(attrs.get("parameters"))
}

fn parameter(name: &str, value: Option<&str>, method: ApplyMethod) -> Parameter {
    Parameter::builder()
        .parameter_name(name)
        .set_parameter_value(value.map(str::to_string))
        .apply_method(method)
        .build()
}

/// AWS refuses `immediate` for a static parameter; it says so in the message.
fn is_static_refusal(e: &ProviderError) -> bool {
    is_code(e, &["InvalidParameterCombination", "InvalidParameterValue"]) && e.message.to_lowercase().contains("static")
}

/// Sets (or, with `reset`, resets) parameters, at most 20 a call as AWS allows: each
/// applies at once where AWS allows it, else at the next reboot (static parameters).
async fn set_parameters(
    aws: &Aws,
    group: &str,
    items: &[(String, Option<String>)],
    reset: bool,
) -> Result<(), ProviderError> {
    let send = |batch: Vec<Parameter>| async move {
        aws.call(Call::Rds).await;
        if reset {
            aws.rds
                .reset_db_parameter_group()
                .db_parameter_group_name(group)
                .reset_all_parameters(false)
                .set_parameters(Some(batch))
                .send()
                .await
                .map(|_| ())
                .map_err(aws_err)
        } else {
            aws.rds
                .modify_db_parameter_group()
                .db_parameter_group_name(group)
                .set_parameters(Some(batch))
                .send()
                .await
                .map(|_| ())
                .map_err(aws_err)
        }
    };
    for chunk in items.chunks(20) {
        let batch = chunk.iter().map(|(k, v)| parameter(k, v.as_deref(), ApplyMethod::Immediate)).collect();
        match send(batch).await {
            Ok(()) => {}
            // Some are static: one at a time, each immediate if AWS allows it.
            Err(e) if is_static_refusal(&e) => {
                for (k, v) in chunk {
                    match send(vec![parameter(k, v.as_deref(), ApplyMethod::Immediate)]).await {
                        Err(e) if is_static_refusal(&e) => {
                            send(vec![parameter(k, v.as_deref(), ApplyMethod::PendingReboot)]).await?
                        }
                        other => other?,
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

pub(crate) async fn configure_parameter_group(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let items: Vec<(String, Option<String>)> = params_of(attrs).into_iter().map(|(k, v)| (k, Some(v))).collect();
    set_parameters(aws, id, &items, false).await
}

pub(crate) async fn update_parameter_group(
    aws: &Aws,
    id: &str,
    before: &Attrs,
    after: &Attrs,
) -> Result<(), ProviderError> {
    let (was, now) = (params_of(before), params_of(after));
    let set: Vec<(String, Option<String>)> =
        now.iter().filter(|(k, v)| was.get(*k) != Some(v)).map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
    let reset: Vec<(String, Option<String>)> =
        was.keys().filter(|k| !now.contains_key(*k)).map(|k| (k.clone(), None)).collect();
    set_parameters(aws, id, &set, false).await?;
    set_parameters(aws, id, &reset, true).await?;
    sync_tags(aws, before, after).await
}

pub(crate) async fn delete_parameter_group(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::Rds).await;
        match aws.rds.delete_db_parameter_group().db_parameter_group_name(id).send().await.map_err(aws_err) {
            Err(e) if is_code(&e, NOT_FOUND) => Ok(()),
            other => other.map(|_| ()),
        }
    })
    .await
}

// ---- db_instance ----

async fn read_instances(aws: &Aws, filter: Option<Filter>) -> Result<Vec<DbInstance>, ProviderError> {
    let stream = aws.rds.describe_db_instances().set_filters(filter.map(|f| vec![f])).max_records(100);
    let pages = pages_with(aws, Call::Rds, stream.into_paginator().send()).await?;
    Ok(pages.into_iter().flat_map(|p| p.db_instances.unwrap_or_default()).collect())
}

fn instance_attrs(d: &DbInstance) -> Vec<(&'static str, Value)> {
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
        ("master_username", opt_str(d.master_username())),
        ("db_subnet_group_name", opt_str(d.db_subnet_group().and_then(|g| g.db_subnet_group_name()))),
        ("vpc_security_group_ids", Value::List(sgs)),
        ("db_parameter_group_name", opt_str(group.and_then(|g| g.db_parameter_group_name()))),
        ("multi_az", multi_az.map(Value::Bool).unwrap_or(Value::Null)),
        ("backup_retention_period", opt_int(retention)),
        ("publicly_accessible", d.publicly_accessible().map(Value::Bool).unwrap_or(Value::Null)),
        ("deletion_protection", d.deletion_protection().map(Value::Bool).unwrap_or(Value::Null)),
        ("endpoint", opt_str(d.endpoint().and_then(|e| e.address()))),
        ("port", opt_int(d.endpoint().and_then(|e| e.port()))),
        ("pending_reboot", Value::Bool(group.and_then(|g| g.parameter_apply_status()) == Some("pending-reboot"))),
        ("arn", opt_str(d.db_instance_arn())),
    ]
}

pub(crate) async fn describe_instances(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
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
        .map(|d| {
            described_with(d.db_instance_identifier().unwrap_or_default(), tag_map(d.tag_list()), instance_attrs(d))
        })
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

/// The create call of a read replica: the engine, storage, credentials and backups
/// are its source's.
fn replica_request(
    b: CreateDBInstanceReadReplicaFluentBuilder,
    c: &Create<'_>,
    name: &str,
    source: &str,
) -> CreateDBInstanceReadReplicaFluentBuilder {
    let attrs = c.attrs;
    b.db_instance_identifier(name)
        .source_db_instance_identifier(source)
        .set_db_instance_class(string(attrs, "db_instance_class"))
        .set_storage_type(string(attrs, "storage_type"))
        .set_db_subnet_group_name(string(attrs, "db_subnet_group_name"))
        .set_vpc_security_group_ids(strs(attrs, "vpc_security_group_ids"))
        .set_db_parameter_group_name(string(attrs, "db_parameter_group_name"))
        .set_multi_az(bool_attr(attrs, "multi_az"))
        .set_publicly_accessible(bool_attr(attrs, "publicly_accessible"))
        .set_deletion_protection(bool_attr(attrs, "deletion_protection"))
        .set_tags(Some(rds_tags(c.stack, c.address, attrs.get("tags"))))
}

/// The create call of a database that is not a replica.
fn primary_request(b: CreateDBInstanceFluentBuilder, c: &Create<'_>, name: &str) -> CreateDBInstanceFluentBuilder {
    let attrs = c.attrs;
    b.db_instance_identifier(name)
        .set_engine(string(attrs, "engine"))
        .set_engine_version(string(attrs, "engine_version"))
        .set_db_instance_class(string(attrs, "db_instance_class"))
        .set_allocated_storage(int(attrs, "allocated_storage"))
        .set_storage_type(string(attrs, "storage_type"))
        .set_db_name(string(attrs, "db_name"))
        .set_master_username(string(attrs, "master_username"))
        .set_master_user_password(string(attrs, "master_user_password"))
        .set_db_subnet_group_name(string(attrs, "db_subnet_group_name"))
        .set_vpc_security_group_ids(strs(attrs, "vpc_security_group_ids"))
        .set_db_parameter_group_name(string(attrs, "db_parameter_group_name"))
        .set_multi_az(bool_attr(attrs, "multi_az"))
        .set_backup_retention_period(int(attrs, "backup_retention_period"))
        .set_publicly_accessible(bool_attr(attrs, "publicly_accessible"))
        .set_deletion_protection(bool_attr(attrs, "deletion_protection"))
        .set_tags(Some(rds_tags(c.stack, c.address, attrs.get("tags"))))
}

pub(crate) async fn create_instance(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
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
            aws.say(&format!("db_instance {id}: {status}; waiting until it is available"));
            said = status;
        }
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

pub(crate) async fn configure_instance(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
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

pub(crate) async fn update_instance(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
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
    set!("multi_az", set_multi_az, bool_attr(after, "multi_az"));
    set!("backup_retention_period", set_backup_retention_period, int(after, "backup_retention_period"));
    set!("publicly_accessible", set_publicly_accessible, bool_attr(after, "publicly_accessible"));
    set!("deletion_protection", set_deletion_protection, bool_attr(after, "deletion_protection"));
    if any {
        aws.call(Call::Rds).await;
        m.apply_immediately(bool_attr(after, "apply_immediately").unwrap_or(false)).send().await.map_err(aws_err)?;
    }
    sync_tags(aws, before, after).await?;
    let db = wait_available(aws, id).await?;
    let pending = db.db_parameter_groups().iter().any(|g| g.parameter_apply_status() == Some("pending-reboot"));
    if pending && bool_attr(after, "reboot_for_parameters") == Some(true) {
        aws.say(&format!("db_instance {id}: rebooting to apply static parameters"));
        aws.call(Call::Rds).await;
        aws.rds.reboot_db_instance().db_instance_identifier(id).send().await.map_err(aws_err)?;
        wait_available(aws, id).await?;
    }
    Ok(())
}

pub(crate) async fn delete_instance(
    aws: &Aws,
    address: &Address,
    id: &str,
    attrs: &Attrs,
) -> Result<(), ProviderError> {
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
        aws.say(&format!("{address}: waiting until {id} is deleted"));
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::{DbParameterGroupStatus, Subnet, VpcSecurityGroupMembership};
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
        "master_username",
        "db_subnet_group_name",
        "vpc_security_group_ids",
        "db_parameter_group_name",
        "multi_az",
        "backup_retention_period",
        "publicly_accessible",
        "deletion_protection",
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
                .set_multi_az(*i.get_multi_az())
                .set_backup_retention_period(*i.get_backup_retention_period())
                .set_publicly_accessible(*i.get_publicly_accessible())
                .set_deletion_protection(*i.get_deletion_protection())
                .set_tag_list(i.get_tags().clone())
                .build();
            let mut back = described_with(&name, tag_map(answer.tag_list()), instance_attrs(&answer)).attrs;
            left_to_aws(&attrs, &mut back);
            gives_back(&attrs, &back, PRIMARY)?;
        }

        #[test]
        fn a_subnet_group_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("db_subnet_group", &["db_subnet_group_name", "db_subnet_group_description", "subnet_ids", "tags"], vec![]),
        ) {
            let address = roundtrip::address("db_subnet_group");
            let name = str_attr(&attrs, "db_subnet_group_name").unwrap_or("generated").to_string();
            let sent = subnet_group_request(roundtrip::rds().create_db_subnet_group(), &roundtrip::create(&address, &attrs), name.clone());
            let i = sent.as_input();
            let subnets = i.get_subnet_ids().iter().flatten().map(|s| Subnet::builder().subnet_identifier(s).build());
            let answer = DbSubnetGroup::builder()
                .set_db_subnet_group_name(i.get_db_subnet_group_name().clone())
                .set_db_subnet_group_description(i.get_db_subnet_group_description().clone())
                .set_subnets(Some(subnets.collect()))
                .build();
            let tags = tag_map(i.get_tags().as_deref().unwrap_or_default());
            let mut back = described_with(&name, tags, subnet_group_attrs(&answer)).attrs;
            if !attrs.contains_key("db_subnet_group_name") {
                back.remove("db_subnet_group_name");
            }
            gives_back(&attrs, &back, &["db_subnet_group_name", "db_subnet_group_description", "subnet_ids", "tags"])?;
        }

        #[test]
        fn a_parameter_group_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("db_parameter_group", &["db_parameter_group_name", "db_parameter_group_family", "description", "parameters", "tags"], vec![]),
        ) {
            let address = roundtrip::address("db_parameter_group");
            let name = str_attr(&attrs, "db_parameter_group_name").unwrap_or("generated").to_string();
            let sent = parameter_group_request(roundtrip::rds().create_db_parameter_group(), &roundtrip::create(&address, &attrs), name.clone());
            let i = sent.as_input();
            let answer = DbParameterGroup::builder()
                .set_db_parameter_group_name(i.get_db_parameter_group_name().clone())
                .set_db_parameter_group_family(i.get_db_parameter_group_family().clone())
                .set_description(i.get_description().clone())
                .build();
            // The parameters as ModifyDBParameterGroup sends them, read back as the
            // user's source.
            let params: BTreeMap<String, Value> = params_of(&attrs)
                .iter()
                .map(|(k, v)| parameter(k, Some(v), ApplyMethod::Immediate))
                .filter_map(|p| Some((p.parameter_name()?.to_string(), Value::str(p.parameter_value()?))))
                .collect();
            let tags = tag_map(i.get_tags().as_deref().unwrap_or_default());
            let mut back = described_with(&name, tags, parameter_group_attrs(&answer, params)).attrs;
            if !attrs.contains_key("db_parameter_group_name") {
                back.remove("db_parameter_group_name");
            }
            gives_back(&attrs, &back, &["db_parameter_group_name", "db_parameter_group_family", "description", "parameters", "tags"])?;
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
                .set_tag_list(i.get_tags().clone())
                .build();
            let mut back = described_with(&name, tag_map(answer.tag_list()), instance_attrs(&answer)).attrs;
            left_to_aws(&attrs, &mut back);
            let mut sent_attrs = attrs.clone();
            sent_attrs.insert("source_db_instance_identifier".into(), Value::Str(source));
            gives_back(&sent_attrs, &back, REPLICA)?;
        }
    }
}
