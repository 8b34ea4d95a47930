//! Launch templates. Versions are immutable: the template's data is its latest
//! version's, and a change makes the next version (and the default one).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{
    LaunchTemplate, LaunchTemplateBlockDeviceMapping, LaunchTemplateBlockDeviceMappingRequest,
    LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateIamInstanceProfileSpecificationRequest,
    LaunchTemplateInstanceMetadataOptions, LaunchTemplateInstanceMetadataOptionsRequest,
    LaunchTemplateTagSpecificationRequest, RequestLaunchTemplateData, ResourceType, ResponseLaunchTemplateData, Tag,
};
use aws_sdk_ec2::types::{
    CreditSpecificationRequest, LaunchTemplateInstanceNetworkInterfaceSpecification,
    LaunchTemplateInstanceNetworkInterfaceSpecificationRequest, LaunchTemplatePlacement, LaunchTemplatePlacementRequest,
    LaunchTemplatesMonitoringRequest,
};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::util::Described;
use crate::util::{
    aws_err, create_named, decode_user_data, described, encode_user_data, is_code, list_attr, opt_str, str_attr,
    tag_map, tag_spec, Select,
};

/// The AWS side of `launch_template`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    /// Launch template names are unique in a region.
    async fn named(&self, aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
        aws.call(Call::Describe).await;
        match aws.ec2.describe_launch_templates().launch_template_names(name).send().await.map_err(aws_err) {
            Ok(out) => Ok(out.launch_templates().first().and_then(|t| t.launch_template_id()).map(str::to_string)),
            Err(e) if crate::util::is_code(&e, &["InvalidLaunchTemplateName.NotFoundException"]) => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Reference
    }
}

/// The attributes that live in a version (everything but the name and tags).
const DATA: &[&str] = &[
    "image_id",
    "instance_type",
    "key_name",
    "security_group_ids",
    "iam_instance_profile",
    "user_data",
    "instance_tags",
    "metadata_options",
    "block_device_mappings",
    "network_interfaces",
    "monitoring",
    "credit_specification",
    "placement",
];

async fn templates(aws: &Aws, sel: Select<'_>) -> Result<Vec<LaunchTemplate>, ProviderError> {
    match sel {
        Select::Stack(_) => {
            // 200 a page, AWS's most (moto, asked for nothing, stops at 15 without a token).
            let all = aws.ec2.describe_launch_templates().filters(sel.filter("")).max_results(200);
            let pages = crate::util::pages(aws, all.into_paginator().send()).await?;
            Ok(pages.into_iter().flat_map(|p| p.launch_templates.unwrap_or_default()).collect())
        }
        // No id filter exists, and an unknown id fails the whole call: ask for them all,
        // then one at a time for any the answer lacks.
        Select::Ids(ids) => {
            let all = aws.ec2.describe_launch_templates().set_launch_template_ids(Some(ids.to_vec()));
            let mut found: Vec<LaunchTemplate> = match crate::util::pages(aws, all.into_paginator().send()).await {
                Ok(pages) => pages.into_iter().flat_map(|p| p.launch_templates.unwrap_or_default()).collect(),
                Err(e) if is_code(&e, crate::util::NOT_FOUND) => Vec::new(),
                Err(e) => return Err(e),
            };
            let have: Vec<String> = found.iter().filter_map(|t| t.launch_template_id().map(str::to_string)).collect();
            for id in ids.iter().filter(|id| !have.contains(id)) {
                aws.call(Call::Describe).await;
                match aws.ec2.describe_launch_templates().launch_template_ids(id).send().await.map_err(aws_err) {
                    Ok(out) => found.extend(out.launch_templates.unwrap_or_default()),
                    Err(e) if is_code(&e, crate::util::NOT_FOUND) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        }
    }
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = templates(aws, sel).await?;
    if found.is_empty() {
        return Ok(Vec::new());
    }
    // The latest version of every template in one paginated call (for a single
    // template, as after a create, its own read is cheaper).
    let pages = if found.len() > 1 {
        let all =
            aws.ec2.describe_launch_template_versions().versions("$Latest").max_results(200).into_paginator().send();
        crate::util::pages(aws, all).await?
    } else {
        Vec::new()
    };
    let mut latest = BTreeMap::new();
    for v in pages.into_iter().flat_map(|p| p.launch_template_versions.unwrap_or_default()) {
        if let Some(id) = v.launch_template_id() {
            latest.insert(id.to_string(), v);
        }
    }
    // An endpoint that cuts the account-wide answer short (moto stops at 15 and gives
    // no next token) leaves some out: those are read one template at a time.
    for t in &found {
        let Some(id) = t.launch_template_id().filter(|id| !latest.contains_key(*id)) else { continue };
        aws.call(Call::Describe).await;
        let out = aws
            .ec2
            .describe_launch_template_versions()
            .launch_template_id(id)
            .versions("$Latest")
            .send()
            .await
            .map_err(aws_err)?;
        if let Some(v) = out.launch_template_versions().first() {
            latest.insert(id.to_string(), v.clone());
        }
    }
    let mut out = Vec::new();
    for t in found {
        let id = t.launch_template_id().unwrap_or_default();
        let data = latest.get(id).and_then(|v| v.launch_template_data());
        out.push(described(id, t.tags(), observe(&t, data)));
    }
    Ok(out)
}

fn observe(t: &LaunchTemplate, data: Option<&ResponseLaunchTemplateData>) -> Vec<(&'static str, Value)> {
    let mut groups: Vec<Value> =
        data.map(|d| d.security_group_ids().iter().map(Value::str).collect()).unwrap_or_default();
    normalize_set(&mut groups);
    let user_data = decode_user_data(data.and_then(|d| d.user_data()));
    let instance_tags: BTreeMap<String, Value> = data
        .map(|d| d.tag_specifications())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.resource_type() == Some(&ResourceType::Instance))
        .flat_map(|s| s.tags())
        .filter_map(|t| Some((t.key()?.to_string(), Value::str(t.value().unwrap_or("")))))
        .collect();
    vec![
        ("launch_template_name", opt_str(t.launch_template_name())),
        ("image_id", opt_str(data.and_then(|d| d.image_id()))),
        ("instance_type", opt_str(data.and_then(|d| d.instance_type()).map(|t| t.as_str()))),
        ("key_name", opt_str(data.and_then(|d| d.key_name()))),
        ("security_group_ids", Value::List(groups)),
        ("iam_instance_profile", opt_str(data.and_then(|d| d.iam_instance_profile()).and_then(|p| p.name()))),
        ("user_data", user_data),
        ("instance_tags", Value::Map(instance_tags)),
        ("metadata_options", metadata_value(data.and_then(|d| d.metadata_options()))),
        ("block_device_mappings", devices_value(data.map(|d| d.block_device_mappings()).unwrap_or_default())),
        ("network_interfaces", interfaces_value(data.map(|d| d.network_interfaces()).unwrap_or_default())),
        (
            "monitoring",
            data.and_then(|d| d.monitoring())
                .map(|m| object(vec![("enabled", m.enabled().map(Value::Bool).unwrap_or(Value::Null))]))
                .unwrap_or(Value::Null),
        ),
        (
            "credit_specification",
            data.and_then(|d| d.credit_specification())
                .map(|c| object(vec![("cpu_credits", opt_str(c.cpu_credits()))]))
                .unwrap_or(Value::Null),
        ),
        ("placement", data.and_then(|d| d.placement()).map(placement_value).unwrap_or(Value::Null)),
        ("latest_version", t.latest_version_number().map(Value::Int).unwrap_or(Value::Null)),
    ]
}

/// A mapping of the pairs that have a value.
fn object(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().filter(|(_, v)| *v != Value::Null).map(|(k, v)| (k.to_string(), v)).collect())
}

fn member<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    match v {
        Some(Value::Map(m)) => m.get(key),
        _ => None,
    }
}

fn metadata_request(attrs: &Attrs) -> Option<LaunchTemplateInstanceMetadataOptionsRequest> {
    let m = attrs.get("metadata_options").filter(|v| matches!(v, Value::Map(_)));
    m.map(|m| {
        LaunchTemplateInstanceMetadataOptionsRequest::builder()
            .set_http_tokens(member(Some(m), "http_tokens").and_then(Value::as_str).map(Into::into))
            .set_http_endpoint(member(Some(m), "http_endpoint").and_then(Value::as_str).map(Into::into))
            .set_http_put_response_hop_limit(
                member(Some(m), "http_put_response_hop_limit").and_then(Value::as_int).map(|n| n as i32),
            )
            .build()
    })
}

fn metadata_value(m: Option<&LaunchTemplateInstanceMetadataOptions>) -> Value {
    m.map(|m| {
        object(vec![
            ("http_tokens", opt_str(m.http_tokens().map(|t| t.as_str()))),
            ("http_endpoint", opt_str(m.http_endpoint().map(|e| e.as_str()))),
            ("http_put_response_hop_limit", m.http_put_response_hop_limit().map(|n| Value::Int(n.into())).unwrap_or(Value::Null)),
        ])
    })
    .unwrap_or(Value::Null)
}

fn devices_request(attrs: &Attrs) -> Option<Vec<LaunchTemplateBlockDeviceMappingRequest>> {
    let devices = list_attr(attrs, "block_device_mappings");
    (!devices.is_empty()).then(|| {
        devices
            .iter()
            .map(|d| {
                let e = member(Some(d), "ebs");
                let ebs = e.map(|_| {
                    LaunchTemplateEbsBlockDeviceRequest::builder()
                        .set_volume_size(member(e, "volume_size").and_then(Value::as_int).map(|n| n as i32))
                        .set_volume_type(member(e, "volume_type").and_then(Value::as_str).map(Into::into))
                        .set_encrypted(member(e, "encrypted").and_then(Value::as_bool))
                        .set_kms_key_id(member(e, "kms_key_id").and_then(Value::as_str).map(str::to_string))
                        .set_delete_on_termination(member(e, "delete_on_termination").and_then(Value::as_bool))
                        .build()
                });
                LaunchTemplateBlockDeviceMappingRequest::builder()
                    .set_device_name(member(Some(d), "device_name").and_then(Value::as_str).map(str::to_string))
                    .set_ebs(ebs)
                    .build()
            })
            .collect()
    })
}

fn devices_value(devices: &[LaunchTemplateBlockDeviceMapping]) -> Value {
    if devices.is_empty() {
        return Value::Null;
    }
    Value::List(
        devices
            .iter()
            .map(|d| {
                let ebs = d.ebs().map(|e| {
                    object(vec![
                        ("volume_size", e.volume_size().map(|n| Value::Int(n.into())).unwrap_or(Value::Null)),
                        ("volume_type", opt_str(e.volume_type().map(|t| t.as_str()))),
                        ("encrypted", e.encrypted().map(Value::Bool).unwrap_or(Value::Null)),
                        ("kms_key_id", opt_str(e.kms_key_id())),
                        ("delete_on_termination", e.delete_on_termination().map(Value::Bool).unwrap_or(Value::Null)),
                    ])
                });
                object(vec![("device_name", opt_str(d.device_name())), ("ebs", ebs.unwrap_or(Value::Null))])
            })
            .collect(),
    )
}

fn int(v: Option<&Value>) -> Option<i32> {
    v.and_then(Value::as_int).map(|n| n as i32)
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn interfaces_request(attrs: &Attrs) -> Option<Vec<LaunchTemplateInstanceNetworkInterfaceSpecificationRequest>> {
    let nics = list_attr(attrs, "network_interfaces");
    (!nics.is_empty()).then(|| {
        nics.iter()
            .map(|n| {
                let n = Some(n);
                let groups: Vec<String> =
                    member(n, "groups").map(Value::as_list).unwrap_or_default().iter().filter_map(Value::as_str).map(str::to_string).collect();
                LaunchTemplateInstanceNetworkInterfaceSpecificationRequest::builder()
                    .set_device_index(int(member(n, "device_index")))
                    .set_associate_public_ip_address(member(n, "associate_public_ip_address").and_then(Value::as_bool))
                    .set_delete_on_termination(member(n, "delete_on_termination").and_then(Value::as_bool))
                    .set_groups(Some(groups).filter(|g| !g.is_empty()))
                    .set_subnet_id(text(member(n, "subnet_id")))
                    .set_description(text(member(n, "description")))
                    .build()
            })
            .collect()
    })
}

fn interfaces_value(nics: &[LaunchTemplateInstanceNetworkInterfaceSpecification]) -> Value {
    Value::List(
        nics.iter()
            .map(|n| {
                let mut groups: Vec<Value> = n.groups().iter().map(Value::str).collect();
                normalize_set(&mut groups);
                object(vec![
                    ("device_index", n.device_index().map(|i| Value::Int(i.into())).unwrap_or(Value::Null)),
                    ("associate_public_ip_address", n.associate_public_ip_address().map(Value::Bool).unwrap_or(Value::Null)),
                    ("delete_on_termination", n.delete_on_termination().map(Value::Bool).unwrap_or(Value::Null)),
                    ("groups", if groups.is_empty() { Value::Null } else { Value::List(groups) }),
                    ("subnet_id", opt_str(n.subnet_id())),
                    ("description", opt_str(n.description())),
                ])
            })
            .collect(),
    )
}

fn placement_request(attrs: &Attrs) -> Option<LaunchTemplatePlacementRequest> {
    let p = attrs.get("placement").filter(|v| matches!(v, Value::Map(_)));
    p.map(|p| {
        LaunchTemplatePlacementRequest::builder()
            .set_availability_zone(text(member(Some(p), "availability_zone")))
            .set_group_name(text(member(Some(p), "group_name")))
            .set_tenancy(member(Some(p), "tenancy").and_then(Value::as_str).map(Into::into))
            .build()
    })
}

fn placement_value(p: &LaunchTemplatePlacement) -> Value {
    let v = object(vec![
        ("availability_zone", opt_str(p.availability_zone())),
        ("group_name", opt_str(p.group_name())),
        ("tenancy", opt_str(p.tenancy().map(|t| t.as_str()))),
    ]);
    // AWS answers an empty placement where none was asked for.
    if v == Value::Map(BTreeMap::new()) {
        Value::Null
    } else {
        v
    }
}

fn data(attrs: &Attrs) -> RequestLaunchTemplateData {
    let tags: Vec<Tag> =
        tag_map(attrs.get("instance_tags")).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    let groups: Vec<String> =
        list_attr(attrs, "security_group_ids").iter().filter_map(Value::as_str).map(str::to_string).collect();
    RequestLaunchTemplateData::builder()
        .set_image_id(str_attr(attrs, "image_id").map(str::to_string))
        .set_instance_type(str_attr(attrs, "instance_type").map(Into::into))
        .set_key_name(str_attr(attrs, "key_name").map(str::to_string))
        .set_security_group_ids(Some(groups).filter(|g| !g.is_empty()))
        .set_iam_instance_profile(
            str_attr(attrs, "iam_instance_profile")
                .map(|name| LaunchTemplateIamInstanceProfileSpecificationRequest::builder().name(name).build()),
        )
        .set_user_data(encode_user_data(attrs))
        .set_metadata_options(metadata_request(attrs))
        .set_block_device_mappings(devices_request(attrs))
        .set_network_interfaces(interfaces_request(attrs))
        .set_monitoring(
            member(attrs.get("monitoring"), "enabled")
                .and_then(Value::as_bool)
                .map(|e| LaunchTemplatesMonitoringRequest::builder().enabled(e).build()),
        )
        .set_credit_specification(
            text(member(attrs.get("credit_specification"), "cpu_credits"))
                .map(|c| CreditSpecificationRequest::builder().cpu_credits(c).build()),
        )
        .set_placement(placement_request(attrs))
        .set_tag_specifications((!tags.is_empty()).then(|| {
            vec![LaunchTemplateTagSpecificationRequest::builder()
                .resource_type(ResourceType::Instance)
                .set_tags(Some(tags))
                .build()]
        }))
        .build()
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let (stack, address, attrs) = (c.stack, c.address, c.attrs);
    create_named(c, "launch_template_name", |name| async move {
        aws.call(Call::Mutate).await;
        let out = aws
            .once
            .ec2
            .create_launch_template()
            .client_token(c.token)
            .launch_template_name(name)
            .launch_template_data(data(attrs))
            .tag_specifications(tag_spec(ResourceType::LaunchTemplate, stack, address, attrs.get("tags")))
            .send()
            .await
            .map_err(aws_err)?;
        out.launch_template()
            .and_then(|t| t.launch_template_id())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateLaunchTemplate returned no id"))
    })
    .await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let same = |k: &&str| {
        let (b, a) = (before.get(*k).filter(|v| **v != Value::Null), after.get(*k).filter(|v| **v != Value::Null));
        b == a
    };
    if DATA.iter().all(same) {
        return Ok(());
    }
    // The SDK resends this call after a lost answer: the token makes the resend the
    // same version, never a second one.
    let token = version_token(id, before, after);
    aws.call(Call::Mutate).await;
    let out = aws
        .ec2
        .create_launch_template_version()
        .client_token(&token)
        .launch_template_id(id)
        .launch_template_data(data(after))
        .send()
        .await
        .map_err(aws_err)?;
    let version = out
        .launch_template_version()
        .and_then(|v| v.version_number())
        .ok_or_else(|| ProviderError::new(None, "CreateLaunchTemplateVersion returned no version"))?;
    aws.call(Call::Mutate).await;
    aws.ec2
        .modify_launch_template()
        .client_token(format!("{token}-default"))
        .launch_template_id(id)
        .default_version(version.to_string())
        .send()
        .await
        .map_err(aws_err)?;
    Ok(())
}

/// The `ClientToken` of the version that takes a template from `before` to `after`:
/// the same for every send of one edit (the SDK's resends, and a later run's after a
/// lost answer), and another for any other edit. The version it starts from is part
/// of it, so going back to an earlier template's data makes a new version rather than
/// returning the old one. AWS takes 64 ASCII characters at most.
pub(crate) fn version_token(id: &str, before: &Attrs, after: &Attrs) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update(b"\0");
    h.update(before.get("latest_version").and_then(Value::as_int).unwrap_or(0).to_string().as_bytes());
    for key in DATA {
        h.update(b"\0");
        h.update(key.as_bytes());
        h.update(b"=");
        let value = after.get(*key).filter(|v| **v != Value::Null);
        h.update(serde_json::to_vec(&value).unwrap_or_default());
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(24).map(|b| format!("{b:02x}")).collect();
    format!("trellis-v-{hex}")
}

pub(crate) async fn delete(aws: &Aws, _address: &Address, id: &str) -> Result<(), ProviderError> {
    aws.call(Call::Mutate).await;
    match aws.ec2.delete_launch_template().launch_template_id(id).send().await.map_err(aws_err) {
        Err(e) if !is_code(&e, crate::util::NOT_FOUND) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{CreditSpecification, LaunchTemplatesMonitoring};
    use aws_sdk_ec2::types::{
        LaunchTemplateEbsBlockDevice, LaunchTemplateIamInstanceProfileSpecification, LaunchTemplateTagSpecification,
    };
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const SENT: &[&str] = DATA;

    #[test]
    fn a_version_token_names_one_edit() {
        let attrs = |image: &str, latest: i64| -> Attrs {
            [("image_id".to_string(), Value::str(image)), ("latest_version".to_string(), Value::Int(latest))]
                .into_iter()
                .collect()
        };
        let (v1, v2) = (attrs("ami-1", 1), attrs("ami-2", 1));
        let token = version_token("lt-1", &v1, &v2);
        // Sent again, the same edit has the same token, and it fits AWS's 64 characters.
        assert_eq!(token, version_token("lt-1", &v1, &v2));
        assert!(token.len() <= 64 && token.is_ascii(), "{token}");
        // Another edit, another template, or the same data from a later version differ.
        assert_ne!(token, version_token("lt-1", &v1, &attrs("ami-3", 1)));
        assert_ne!(token, version_token("lt-2", &v1, &v2));
        assert_ne!(token, version_token("lt-1", &attrs("ami-2", 3), &v2));
    }

    proptest! {
        #[test]
        fn a_version_comes_back_as_it_was_written(attrs in roundtrip::attrs("launch_template", SENT, vec![])) {
            let d = data(&attrs);
            // AWS keeps a version's data as it was given (user data still base64).
            let answer = ResponseLaunchTemplateData::builder()
                .set_image_id(d.image_id().map(str::to_string))
                .set_instance_type(d.instance_type().cloned())
                .set_key_name(d.key_name().map(str::to_string))
                .set_security_group_ids(Some(d.security_group_ids().to_vec()))
                .set_iam_instance_profile(d.iam_instance_profile().map(|p| {
                    LaunchTemplateIamInstanceProfileSpecification::builder().set_name(p.name().map(str::to_string)).build()
                }))
                .set_user_data(d.user_data().map(str::to_string))
                .set_metadata_options(d.metadata_options().map(|m| {
                    LaunchTemplateInstanceMetadataOptions::builder()
                        .set_http_tokens(m.http_tokens().cloned())
                        .set_http_endpoint(m.http_endpoint().cloned())
                        .set_http_put_response_hop_limit(m.http_put_response_hop_limit())
                        .build()
                }))
                .set_block_device_mappings(Some(
                    d.block_device_mappings()
                        .iter()
                        .map(|b| {
                            LaunchTemplateBlockDeviceMapping::builder()
                                .set_device_name(b.device_name().map(str::to_string))
                                .set_ebs(b.ebs().map(|e| {
                                    LaunchTemplateEbsBlockDevice::builder()
                                        .set_volume_size(e.volume_size())
                                        .set_volume_type(e.volume_type().cloned())
                                        .set_encrypted(e.encrypted())
                                        .set_kms_key_id(e.kms_key_id().map(str::to_string))
                                        .set_delete_on_termination(e.delete_on_termination())
                                        .build()
                                }))
                                .build()
                        })
                        .collect(),
                ))
                .set_network_interfaces(Some(
                    d.network_interfaces()
                        .iter()
                        .map(|n| {
                            LaunchTemplateInstanceNetworkInterfaceSpecification::builder()
                                .set_device_index(n.device_index())
                                .set_associate_public_ip_address(n.associate_public_ip_address())
                                .set_delete_on_termination(n.delete_on_termination())
                                .set_groups(Some(n.groups().to_vec()))
                                .set_subnet_id(n.subnet_id().map(str::to_string))
                                .set_description(n.description().map(str::to_string))
                                .build()
                        })
                        .collect(),
                ))
                .set_monitoring(d.monitoring().map(|m| LaunchTemplatesMonitoring::builder().set_enabled(m.enabled()).build()))
                .set_credit_specification(
                    d.credit_specification().map(|c| CreditSpecification::builder().set_cpu_credits(c.cpu_credits().map(str::to_string)).build()),
                )
                .set_placement(d.placement().map(|p| {
                    LaunchTemplatePlacement::builder()
                        .set_availability_zone(p.availability_zone().map(str::to_string))
                        .set_group_name(p.group_name().map(str::to_string))
                        .set_tenancy(p.tenancy().cloned())
                        .build()
                }))
                .set_tag_specifications(Some(
                    d.tag_specifications()
                        .iter()
                        .map(|s| {
                            LaunchTemplateTagSpecification::builder()
                                .set_resource_type(s.resource_type().cloned())
                                .set_tags(Some(s.tags().to_vec()))
                                .build()
                        })
                        .collect(),
                ))
                .build();
            let template = LaunchTemplate::builder().launch_template_name("lt").latest_version_number(1).build();
            let back = roundtrip::collect(observe(&template, Some(&answer)));
            let mut sent = attrs.clone();
            sent.entry("security_group_ids".into()).or_insert(Value::List(vec![]));
            // No volumes is no mapping at all.
            if sent.get("block_device_mappings") == Some(&Value::List(vec![])) {
                sent.remove("block_device_mappings");
            }
            // An empty placement is none (AWS answers one where none was asked for).
            if sent.get("placement") == Some(&Value::Map(BTreeMap::new())) {
                sent.remove("placement");
            }
            // An interface with no groups names none.
            if let Some(Value::List(nics)) = sent.get_mut("network_interfaces") {
                for nic in nics.iter_mut() {
                    if let Value::Map(m) = nic {
                        if m.get("groups") == Some(&Value::List(vec![])) {
                            m.remove("groups");
                        }
                    }
                }
            }
            gives_back(&sent, &back, SENT)?;
        }
    }
}
