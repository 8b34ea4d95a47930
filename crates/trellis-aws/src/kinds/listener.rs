//! `listener`: made on its load balancer with its default actions. It has no name and
//! no tag filter: a lost create is looked for among its load balancer's listeners.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::operation::create_listener::builders::CreateListenerFluentBuilder;
use aws_sdk_elasticloadbalancingv2::types::{Action, Certificate, Listener, ProtocolEnum};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::service::elb::{action, action_value, by_arns, tags_for, tags_of};
use crate::util::Described;
use crate::util::{aws_err, delete_with_retry, described_with, opt_int, opt_str, str_attr, Select};

/// The AWS side of `listener`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::ELB
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    /// The SNI certificates, which a create does not take.
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        configure(aws, id, attrs).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    /// A listener has no name: the load balancer's listeners are where a lost create is.
    async fn find_created(&self, aws: &Aws, c: &Create<'_>) -> Result<Vec<Described>, ProviderError> {
        find_created(aws, c.attrs).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// The listeners of the load balancers found in the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let mut out = Vec::new();
        for arn in vpc.ids(&trellis_core::kinds::LOAD_BALANCER) {
            let call = aws.elb.describe_listeners().load_balancer_arn(arn).into_paginator().send();
            for p in crate::util::pages_with(aws, Call::ElbDescribe, call).await? {
                out.extend(p.listeners().iter().filter_map(|l| l.listener_arn()).map(str::to_string));
            }
        }
        Ok(out)
    }
}

async fn read(aws: &Aws, arns: Vec<String>) -> Result<Vec<Listener>, ProviderError> {
    let out = aws.elb.describe_listeners().set_listener_arns(Some(arns)).send().await.map_err(aws_err)?;
    Ok(out.listeners.unwrap_or_default())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    // Listeners have no tag filter and cannot outlive their load balancer: they are read
    // by ARN (the state knows them), 20 per call.
    let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
    let listeners = by_arns(aws, ids, "ListenerNotFound", |chunk| read(aws, chunk)).await?;
    let arns: Vec<String> = listeners.iter().filter_map(|l| l.listener_arn().map(str::to_string)).collect();
    let tags = tags_of(aws, &arns).await?;
    let mut out = Vec::new();
    for l in &listeners {
        let arn = l.listener_arn().unwrap_or_default();
        // DescribeListeners names the default certificate only; the SNI ones come one
        // listener per call, asked only of a listener that has certificates.
        let sni = if l.certificates().is_empty() { Vec::new() } else { sni_certificates(aws, arn).await? };
        out.push(described_with(arn, tags.get(arn).cloned().unwrap_or_default(), observe(l, &sni)));
    }
    Ok(out)
}

/// The certificates a listener serves by SNI: all it has but the default.
async fn sni_certificates(aws: &Aws, arn: &str) -> Result<Vec<String>, ProviderError> {
    aws.call(Call::ElbDescribe).await;
    let out = aws.elb.describe_listener_certificates().listener_arn(arn).send().await.map_err(aws_err)?;
    Ok(out
        .certificates()
        .iter()
        .filter(|c| c.is_default() != Some(true))
        .filter_map(|c| c.certificate_arn())
        .map(str::to_string)
        .collect())
}

fn certificate_value(arn: &str) -> Value {
    Value::Map([("certificate_arn".to_string(), Value::str(arn))].into_iter().collect())
}

fn observe(l: &Listener, sni: &[String]) -> Vec<(&'static str, Value)> {
    let default = l.certificates().first().and_then(|c| c.certificate_arn());
    let certificates = match default {
        // The default first, then the others, each once.
        Some(d) => {
            let rest = sni.iter().map(String::as_str).filter(|c| *c != d);
            Value::List(std::iter::once(d).chain(rest).map(certificate_value).collect())
        }
        None => Value::Null,
    };
    vec![
        ("load_balancer_arn", opt_str(l.load_balancer_arn())),
        ("port", opt_int(l.port())),
        ("protocol", opt_str(l.protocol().map(|p| p.as_str()))),
        ("ssl_policy", opt_str(l.ssl_policy())),
        ("certificates", certificates),
        ("default_actions", Value::List(l.default_actions().iter().map(action_value).collect())),
    ]
}

fn request(b: CreateListenerFluentBuilder, c: &Create<'_>) -> Result<CreateListenerFluentBuilder, ProviderError> {
    let attrs = c.attrs;
    Ok(b.set_load_balancer_arn(str_attr(attrs, "load_balancer_arn").map(str::to_string))
        .set_port(attrs.get("port").and_then(Value::as_int).map(|p| p as i32))
        .set_protocol(str_attr(attrs, "protocol").map(ProtocolEnum::from))
        .set_ssl_policy(str_attr(attrs, "ssl_policy").map(str::to_string))
        .set_certificates(default_certificate(attrs))
        .set_default_actions(Some(actions(attrs)?))
        .set_tags(Some(tags_for(c.stack, c.address, attrs.get("tags")))))
}

/// `default_actions`, in their order.
fn actions(attrs: &Attrs) -> Result<Vec<Action>, ProviderError> {
    let list = attrs.get("default_actions").map(Value::as_list).unwrap_or_default();
    list.iter().map(|a| action(Some(a))).collect()
}

/// The certificates' ARNs, the default first.
fn certificate_arns(attrs: &Attrs) -> Vec<String> {
    let list = attrs.get("certificates").map(Value::as_list).unwrap_or_default();
    list.iter().filter_map(|c| c.as_map()?.get("certificate_arn")?.as_str().map(str::to_string)).collect()
}

/// What a create or modify takes: the default certificate, alone (AWS refuses more).
fn default_certificate(attrs: &Attrs) -> Option<Vec<Certificate>> {
    certificate_arns(attrs).first().map(|c| vec![Certificate::builder().certificate_arn(c).build()])
}

fn certificate_list(arns: &[String]) -> Vec<Certificate> {
    arns.iter().map(|a| Certificate::builder().certificate_arn(a.as_str()).build()).collect()
}

/// The SNI certificates to add and to remove once the default is `after`'s: those of
/// `after` the listener does not serve, and those it serves that `after` does not have.
fn sni_changes(before: &[String], after: &[String]) -> (Vec<String>, Vec<String>) {
    let rest = after.get(1..).unwrap_or_default();
    let added = rest.iter().filter(|c| !before.contains(c)).cloned().collect();
    let removed = before.iter().filter(|c| !after.contains(c)).cloned().collect();
    (added, removed)
}

/// Adds and removes SNI certificates so that the listener serves exactly `after`.
async fn sync_sni(aws: &Aws, id: &str, before: &[String], after: &[String]) -> Result<(), ProviderError> {
    let (added, removed) = sni_changes(before, after);
    if !added.is_empty() {
        aws.call(Call::ElbMutate).await;
        let add = aws.elb.add_listener_certificates().listener_arn(id);
        add.set_certificates(Some(certificate_list(&added))).send().await.map_err(aws_err)?;
    }
    if !removed.is_empty() {
        aws.call(Call::ElbMutate).await;
        let remove = aws.elb.remove_listener_certificates().listener_arn(id);
        remove.set_certificates(Some(certificate_list(&removed))).send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(Call::ElbMutate).await;
    let out = request(aws.once.elb.create_listener(), c)?.send().await.map_err(aws_err)?;
    out.listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateListener returned no ARN"))
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let arns = certificate_arns(attrs);
    sync_sni(aws, id, arns.get(..1).unwrap_or_default(), &arns).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let changed = |k: &str| before.get(k) != after.get(k);
    let (had, has) = (certificate_arns(before), certificate_arns(after));
    let new_default = had.first() != has.first();
    let policy_set = after.contains_key("ssl_policy") && changed("ssl_policy");
    if ["port", "protocol", "default_actions"].iter().any(|k| changed(k)) || new_default || policy_set {
        aws.call(Call::ElbMutate).await;
        aws.elb
            .modify_listener()
            .listener_arn(id)
            .set_port(after.get("port").and_then(Value::as_int).map(|p| p as i32))
            .set_protocol(str_attr(after, "protocol").map(ProtocolEnum::from))
            .set_ssl_policy(str_attr(after, "ssl_policy").map(str::to_string))
            .set_certificates(default_certificate(after))
            .set_default_actions(Some(actions(after)?))
            .send()
            .await
            .map_err(aws_err)?;
    }
    if had != has {
        // What a new default leaves of the others is read, not assumed.
        let mut serving: Vec<String> = has.first().into_iter().cloned().collect();
        serving.extend(sni_certificates(aws, id).await?);
        sync_sni(aws, id, &serving, &has).await?;
    }
    Ok(())
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::ElbMutate).await;
        aws.elb.delete_listener().listener_arn(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

/// The listeners of the spec's load balancer on the spec's port: where a create whose
/// answer was lost is looked for (listeners have no tag filter).
pub(crate) async fn find_created(aws: &Aws, attrs: &Attrs) -> Result<Vec<Described>, ProviderError> {
    let Some(lb) = str_attr(attrs, "load_balancer_arn") else { return Ok(Vec::new()) };
    let port = attrs.get("port").and_then(Value::as_int).map(|p| p as i32);
    aws.call(Call::ElbDescribe).await;
    let out = aws.elb.describe_listeners().load_balancer_arn(lb).send().await.map_err(aws_err)?;
    let arns: Vec<String> = out
        .listeners()
        .iter()
        .filter(|l| l.port() == port)
        .filter_map(|l| l.listener_arn().map(str::to_string))
        .collect();
    if arns.is_empty() {
        return Ok(Vec::new());
    }
    describe(aws, Select::Ids(&arns)).await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back, nested};
    use super::*;

    fn an_action() -> BoxedStrategy<Value> {
        let with = |kind: &'static str, key: &'static str, inner: BoxedStrategy<Value>| {
            inner
                .prop_map(move |v| roundtrip::collect(vec![("type", Value::str(kind)), (key, v)]))
                .prop_map(Value::Map)
                .boxed()
        };
        prop_oneof![
            with(
                "forward",
                "target_group_arn",
                roundtrip::value(nested("listener", &["default_actions", "target_group_arn"]))
            ),
            with(
                "fixed-response",
                "fixed_response_config",
                roundtrip::value(nested("listener", &["default_actions", "fixed_response_config"]))
            ),
            with(
                "redirect",
                "redirect_config",
                roundtrip::value(nested("listener", &["default_actions", "redirect_config"]))
            ),
        ]
        .boxed()
    }

    const ALL: &[&str] = &["load_balancer_arn", "port", "protocol", "ssl_policy", "certificates", "default_actions", "tags"];

    fn arns() -> BoxedStrategy<Vec<String>> {
        prop::collection::btree_set("arn:aws:acm:us-east-1:123456789012:certificate/[a-f0-9]{8}", 0..4)
            .prop_map(|s| s.into_iter().collect())
            .boxed()
    }

    proptest! {
        #[test]
        fn an_action_comes_back_as_it_was_written(a in an_action()) {
            prop_assert_eq!(action_value(&action(Some(&a)).unwrap()), a);
        }

        #[test]
        fn a_listener_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("listener", ALL, vec![
                ("default_actions", an_action().prop_map(|a| Value::List(vec![a])).boxed()),
                ("certificates", arns().prop_filter("one or more", |a| !a.is_empty())
                    .prop_map(|a| Value::List(a.iter().map(|c| certificate_value(c)).collect())).boxed()),
            ]),
        ) {
            let address = roundtrip::address("listener");
            let sent = request(roundtrip::elb().create_listener(), &roundtrip::create(&address, &attrs)).unwrap();
            let input = sent.as_input();
            let answer = Listener::builder()
                .set_load_balancer_arn(input.get_load_balancer_arn().clone())
                .set_port(*input.get_port())
                .set_protocol(input.get_protocol().clone())
                .set_ssl_policy(input.get_ssl_policy().clone())
                .set_certificates(input.get_certificates().clone())
                .set_default_actions(input.get_default_actions().clone())
                .build();
            // The SNI certificates are those `configure` adds after the create.
            let arns = certificate_arns(&attrs);
            let (sni, _) = sni_changes(arns.get(..1).unwrap_or_default(), &arns);
            let tags = roundtrip::tag_pairs(input.get_tags().iter().flatten().map(|t| (t.key(), t.value())));
            let back = described_with("arn:listener", tags, observe(&answer, &sni)).attrs;
            gives_back(&attrs, &back, ALL)?;
        }

        /// Whatever the listener serves after the modify and the spec now says, the SNI
        /// calls leave it serving exactly the spec's certificates.
        #[test]
        fn certificates_move_to_what_the_spec_says(before in arns(), after in arns(), kept in any::<bool>()) {
            // A new default either keeps the others (AWS) or drops them (moto).
            let mut serving: Vec<String> = after.first().into_iter().cloned().collect();
            if kept || before.first() == after.first() {
                serving.extend(before.iter().skip(1).filter(|c| Some(*c) != after.first()).cloned());
            }
            let (added, removed) = sni_changes(&serving, &after);
            serving.extend(added);
            serving.retain(|c| !removed.contains(c));
            let want: std::collections::BTreeSet<&String> = after.iter().collect();
            let got: std::collections::BTreeSet<&String> = serving.iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
