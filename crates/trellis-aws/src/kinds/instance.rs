//! `instance`: a fixed server (`RunInstances`), waited for until running. A type change
//! stops and starts it; its instance profile is associated, replaced or removed in place.

use async_trait::async_trait;
use aws_sdk_ec2::operation::run_instances::builders::RunInstancesFluentBuilder;
use aws_sdk_ec2::types::{
    AttributeValue, BlockDeviceMapping, EbsBlockDevice, Filter, IamInstanceProfileAssociationState,
    IamInstanceProfileSpecification, Instance, InstanceMetadataOptionsRequest, InstanceMetadataOptionsResponse,
    InstanceNetworkInterfaceSpecification, InstanceStateName, ResourceType,
};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::limits::Call;
use crate::progress::{Event, Until};
use crate::util::Described;
use crate::util::{
    aws_err, bool_attr, decode_user_data, described, encode_user_data, is_code, list_attr, opt_str, retry_until,
    str_attr, tag_spec, Select,
};

/// The AWS side of `instance`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
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
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// Live instances, but not those an auto scaling group launched (the group is
    /// discovered, not its instances).
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.ec2.describe_instances().filters(vpc.filter("vpc-id")).into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.reservations())
            .flat_map(|r| r.instances())
            .filter(|i| live(i) && !i.tags().iter().any(|t| t.key() == Some("aws:autoscaling:groupName")))
            .filter_map(|i| i.instance_id())
            .map(str::to_string)
            .collect())
    }
}

fn live(i: &Instance) -> bool {
    !matches!(i.state().and_then(|s| s.name()), Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown))
}

async fn instances(aws: &Aws, sel: Select<'_>) -> Result<Vec<Instance>, ProviderError> {
    let pages = crate::util::pages(
        aws,
        aws.ec2.describe_instances().filters(sel.filter("instance-id")).into_paginator().send(),
    )
    .await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.reservations.unwrap_or_default())
        .flat_map(|r| r.instances.unwrap_or_default())
        .filter(live)
        .collect())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let mut out = Vec::new();
    for i in instances(aws, sel).await? {
        let id = i.instance_id().unwrap_or_default();
        // User data is only offered one instance per call.
        let ud = crate::util::read_listed(|| async {
            aws.call(Call::Describe).await;
            aws.ec2
                .describe_instance_attribute()
                .instance_id(id)
                .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
                .send()
                .await
                .map_err(aws_err)
        })
        .await?;
        out.push(described(id, i.tags(), observe(&i, ud.user_data().and_then(|u| u.value()))));
    }
    Ok(out)
}

/// An instance's attributes; its user data (base64) is read apart.
fn observe(i: &Instance, user_data: Option<&str>) -> Vec<(&'static str, Value)> {
    let mut groups: Vec<Value> = i.security_groups().iter().filter_map(|g| g.group_id()).map(Value::str).collect();
    normalize_set(&mut groups);
    vec![
        ("image_id", opt_str(i.image_id())),
        ("instance_type", opt_str(i.instance_type().map(|t| t.as_str()))),
        ("subnet_id", opt_str(i.subnet_id())),
        ("security_group_ids", Value::List(groups)),
        ("key_name", opt_str(i.key_name())),
        ("iam_instance_profile", opt_str(i.iam_instance_profile().and_then(|p| p.arn()).map(profile_name))),
        ("user_data", decode_user_data(user_data)),
        ("metadata_options", metadata_value(i.metadata_options())),
        ("associate_public_ip_address", Value::Bool(i.public_ip_address().is_some())),
        ("private_ip", opt_str(i.private_ip_address())),
        ("public_ip", opt_str(i.public_ip_address())),
    ]
}

/// A profile's name from its ARN (`arn:aws:iam::123456789012:instance-profile/PATH/NAME`):
/// an instance names its profile by ARN only.
fn profile_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

fn request(b: RunInstancesFluentBuilder, c: &Create<'_>) -> RunInstancesFluentBuilder {
    let attrs = c.attrs;
    let subnet = str_attr(attrs, "subnet_id").map(str::to_string);
    let b = b
        .client_token(c.token)
        .min_count(1)
        .max_count(1)
        .set_image_id(str_attr(attrs, "image_id").map(str::to_string))
        .set_instance_type(str_attr(attrs, "instance_type").map(Into::into))
        .set_key_name(str_attr(attrs, "key_name").map(str::to_string))
        .set_iam_instance_profile(str_attr(attrs, "iam_instance_profile").map(profile_spec))
        .set_user_data(encode_user_data(attrs))
        .set_metadata_options(metadata_request(attrs))
        .set_block_device_mappings(devices_request(attrs))
        .tag_specifications(tag_spec(ResourceType::Instance, c.stack, c.address, attrs.get("tags")));
    match bool_attr(attrs, "associate_public_ip_address") {
        // A public address choice is only possible on an explicit network interface.
        Some(public) => b.network_interfaces(
            InstanceNetworkInterfaceSpecification::builder()
                .device_index(0)
                .set_subnet_id(subnet)
                .associate_public_ip_address(public)
                .set_groups(Some(groups(attrs)).filter(|g| !g.is_empty()))
                .build(),
        ),
        None => b.set_subnet_id(subnet).set_security_group_ids(Some(groups(attrs)).filter(|g| !g.is_empty())),
    }
}

fn member<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    match v {
        Some(Value::Map(m)) => m.get(key),
        _ => None,
    }
}

/// `--metadata-options` as the spec gives it (its members' defaults filled by the parser).
fn metadata_request(attrs: &Attrs) -> Option<InstanceMetadataOptionsRequest> {
    let m = attrs.get("metadata_options").filter(|v| matches!(v, Value::Map(_)))?;
    Some(
        InstanceMetadataOptionsRequest::builder()
            .set_http_tokens(member(Some(m), "http_tokens").and_then(Value::as_str).map(Into::into))
            .set_http_endpoint(member(Some(m), "http_endpoint").and_then(Value::as_str).map(Into::into))
            .set_http_put_response_hop_limit(
                member(Some(m), "http_put_response_hop_limit").and_then(Value::as_int).map(|n| n as i32),
            )
            .build(),
    )
}

fn metadata_value(m: Option<&InstanceMetadataOptionsResponse>) -> Value {
    let Some(m) = m else { return Value::Null };
    let pairs = [
        ("http_tokens", opt_str(m.http_tokens().map(|t| t.as_str()))),
        ("http_endpoint", opt_str(m.http_endpoint().map(|e| e.as_str()))),
        ("http_put_response_hop_limit", m.http_put_response_hop_limit().map(|n| Value::Int(n.into())).unwrap_or(Value::Null)),
    ];
    Value::Map(pairs.into_iter().filter(|(_, v)| *v != Value::Null).map(|(k, v)| (k.to_string(), v)).collect())
}

/// `--block-device-mappings`: sent, never read back (AWS describes volumes by id).
fn devices_request(attrs: &Attrs) -> Option<Vec<BlockDeviceMapping>> {
    let devices = list_attr(attrs, "block_device_mappings");
    (!devices.is_empty()).then(|| {
        devices
            .iter()
            .map(|d| {
                let e = member(Some(d), "ebs");
                BlockDeviceMapping::builder()
                    .set_device_name(member(Some(d), "device_name").and_then(Value::as_str).map(str::to_string))
                    .set_ebs(e.map(|_| {
                        EbsBlockDevice::builder()
                            .set_volume_size(member(e, "volume_size").and_then(Value::as_int).map(|n| n as i32))
                            .set_volume_type(member(e, "volume_type").and_then(Value::as_str).map(Into::into))
                            .set_encrypted(member(e, "encrypted").and_then(Value::as_bool))
                            .set_kms_key_id(member(e, "kms_key_id").and_then(Value::as_str).map(str::to_string))
                            .set_delete_on_termination(member(e, "delete_on_termination").and_then(Value::as_bool))
                            .build()
                    }))
                    .build()
            })
            .collect()
    })
}

fn profile_spec(name: &str) -> IamInstanceProfileSpecification {
    IamInstanceProfileSpecification::builder().name(name).build()
}

fn groups(attrs: &Attrs) -> Vec<String> {
    list_attr(attrs, "security_group_ids").iter().filter_map(Value::as_str).map(str::to_string).collect()
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(Call::RunInstances).await;
    let out = request(aws.once.ec2.run_instances(), c).send().await.map_err(aws_err)?;
    out.instances()
        .first()
        .and_then(|i| i.instance_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "RunInstances returned no instance"))
}

async fn wait_for(aws: &Aws, id: &str, want: InstanceStateName) -> Result<(), ProviderError> {
    let until = Until::State(want.as_str().to_string());
    retry_until(aws, aws.timeouts.ready, &format!("instance {id}"), until, || async {
        aws.call(Call::Describe).await;
        let out = aws.ec2.describe_instances().instance_ids(id).send().await.map_err(aws_err)?;
        let state = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .and_then(|i| i.state())
            .and_then(|s| s.name())
            .cloned();
        Ok((state.as_ref() == Some(&want)).then_some(()))
    })
    .await
}

pub(crate) async fn configure(aws: &Aws, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
    wait_for(aws, id, InstanceStateName::Running).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    if let (Some(m), true) = (metadata_request(after), before.get("metadata_options") != after.get("metadata_options")) {
        aws.call(Call::Mutate).await;
        aws.ec2
            .modify_instance_metadata_options()
            .instance_id(id)
            .set_http_tokens(m.http_tokens().cloned())
            .set_http_endpoint(m.http_endpoint().cloned())
            .set_http_put_response_hop_limit(m.http_put_response_hop_limit())
            .send()
            .await
            .map_err(aws_err)?;
    }
    let profile = str_attr(after, "iam_instance_profile");
    if str_attr(before, "iam_instance_profile") != profile {
        set_profile(aws, id, profile).await?;
    }
    if after.get("security_group_ids").is_some() && before.get("security_group_ids") != after.get("security_group_ids")
    {
        aws.call(Call::Mutate).await;
        aws.ec2
            .modify_instance_attribute()
            .instance_id(id)
            .set_groups(Some(groups(after)))
            .send()
            .await
            .map_err(aws_err)?;
    }
    if let (Some(t), true) =
        (str_attr(after, "instance_type"), before.get("instance_type") != after.get("instance_type"))
    {
        aws.tell(Event::StoppingToResize { id: id.to_string(), instance_type: t.to_string() });
        aws.call(Call::Mutate).await;
        aws.ec2.stop_instances().instance_ids(id).send().await.map_err(aws_err)?;
        wait_for(aws, id, InstanceStateName::Stopped).await?;
        aws.call(Call::Mutate).await;
        aws.ec2
            .modify_instance_attribute()
            .instance_id(id)
            .instance_type(AttributeValue::builder().value(t).build())
            .send()
            .await
            .map_err(aws_err)?;
        aws.call(Call::Mutate).await;
        aws.ec2.start_instances().instance_ids(id).send().await.map_err(aws_err)?;
        wait_for(aws, id, InstanceStateName::Running).await?;
    }
    Ok(())
}

/// Gives the instance `profile` (or none), replacing whatever association AWS has now.
async fn set_profile(aws: &Aws, id: &str, profile: Option<&str>) -> Result<(), ProviderError> {
    aws.call(Call::Describe).await;
    let now = aws
        .ec2
        .describe_iam_instance_profile_associations()
        .filters(Filter::builder().name("instance-id").values(id).build())
        .send()
        .await
        .map_err(aws_err)?;
    let current = now
        .iam_instance_profile_associations()
        .iter()
        .find(|a| {
            matches!(
                a.state(),
                Some(IamInstanceProfileAssociationState::Associated | IamInstanceProfileAssociationState::Associating)
            )
        })
        .and_then(|a| a.association_id());
    aws.call(Call::Mutate).await;
    match (current, profile) {
        (Some(association), Some(name)) => aws
            .ec2
            .replace_iam_instance_profile_association()
            .association_id(association)
            .iam_instance_profile(profile_spec(name))
            .send()
            .await
            .map(|_| ())
            .map_err(aws_err),
        (None, Some(name)) => aws
            .ec2
            .associate_iam_instance_profile()
            .instance_id(id)
            .iam_instance_profile(profile_spec(name))
            .send()
            .await
            .map(|_| ())
            .map_err(aws_err),
        (Some(association), None) => aws
            .ec2
            .disassociate_iam_instance_profile()
            .association_id(association)
            .send()
            .await
            .map(|_| ())
            .map_err(aws_err),
        (None, None) => Ok(()),
    }
}

pub(crate) async fn delete(aws: &Aws, _address: &Address, id: &str) -> Result<(), ProviderError> {
    aws.call(Call::Mutate).await;
    match aws.ec2.terminate_instances().instance_ids(id).send().await.map_err(aws_err) {
        Err(e) if is_code(&e, crate::util::NOT_FOUND) => return Ok(()),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    // Its network interface holds the subnet and security groups until it is gone.
    wait_for(aws, id, InstanceStateName::Terminated).await
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{GroupIdentifier, IamInstanceProfile};
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const SENT: &[&str] = &[
        "image_id",
        "instance_type",
        "subnet_id",
        "security_group_ids",
        "key_name",
        "iam_instance_profile",
        "user_data",
        "associate_public_ip_address",
        "metadata_options",
        "tags",
    ];

    proptest! {
        #[test]
        fn an_instance_comes_back_as_it_was_launched(attrs in roundtrip::attrs("instance", SENT, vec![])) {
            let address = roundtrip::address("instance");
            let sent = request(roundtrip::ec2().run_instances(), &roundtrip::create(&address, &attrs));
            let i = sent.as_input();
            // Subnet and groups go on the interface when a public address is chosen.
            let nic = i.get_network_interfaces().iter().flatten().next();
            let subnet = nic.and_then(|n| n.subnet_id()).map(str::to_string).or(i.get_subnet_id().clone());
            let groups: Vec<String> = match nic {
                Some(n) => n.groups().to_vec(),
                None => i.get_security_group_ids().clone().unwrap_or_default(),
            };
            let public = nic.and_then(|n| n.associate_public_ip_address()).unwrap_or(false);
            let answer = Instance::builder()
                .set_image_id(i.get_image_id().clone())
                .set_instance_type(i.get_instance_type().clone())
                .set_subnet_id(subnet)
                .set_security_groups(Some(groups.iter().map(|g| GroupIdentifier::builder().group_id(g).build()).collect()))
                .set_key_name(i.get_key_name().clone())
                .set_iam_instance_profile(i.get_iam_instance_profile().as_ref().and_then(|p| p.name()).map(|name| {
                    IamInstanceProfile::builder()
                        .arn(format!("arn:aws:iam::123456789012:instance-profile/trellis/test/{name}"))
                        .build()
                }))
                .set_public_ip_address(public.then(|| "203.0.113.7".to_string()))
                .set_metadata_options(i.get_metadata_options().as_ref().map(|m| {
                    InstanceMetadataOptionsResponse::builder()
                        .set_http_tokens(m.http_tokens().cloned())
                        .set_http_endpoint(m.http_endpoint().cloned())
                        .set_http_put_response_hop_limit(m.http_put_response_hop_limit())
                        .build()
                }))
                .set_tags(Some(roundtrip::ec2_tags(i.get_tag_specifications())))
                .build();
            let mut back = described("i-1", answer.tags(), observe(&answer, i.get_user_data().as_deref())).attrs;
            // Left out, the subnet's setting and the VPC's default group decide.
            for chosen in ["associate_public_ip_address", "security_group_ids"] {
                if !attrs.contains_key(chosen) {
                    back.remove(chosen);
                }
            }
            gives_back(&attrs, &back, SENT)?;
        }
    }
}
