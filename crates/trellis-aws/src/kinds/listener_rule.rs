//! `listener_rule`: made on its listener. Rules have no tag filter and are read by
//! listener: all of a listener's rules come in one paged `DescribeRules` (400 a page,
//! AWS's most), however many of them the state knows. A lost create is looked for
//! among its listener's rules by the stack's tags. Priorities move together, in one
//! `SetRulePriorities` (`set_together`).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::operation::create_rule::builders::CreateRuleFluentBuilder;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, HostHeaderConditionConfig, HttpHeaderConditionConfig, HttpRequestMethodConditionConfig,
    PathPatternConditionConfig, QueryStringConditionConfig, QueryStringKeyValuePair, Rule, RuleCondition,
    RulePriorityPair, SourceIpConditionConfig,
};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::elb::{action, action_value, map, tags_for, tags_of};
use crate::service::Service;
use crate::util::{aws_err, delete_with_retry, described_with, is_code, opt_str, str_attr, Described, Select};
use crate::TAG_STACK;

/// The AWS side of `listener_rule`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::ELB
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
        describe(aws, ids).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        aws.call(Call::ElbMutate).await;
        let out = request(aws.once.elb.create_rule(), c)?.send().await.map_err(aws_err)?;
        out.rules()
            .first()
            .and_then(|r| r.rule_arn())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateRule returned no ARN"))
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        let changed = |k: &str| before.get(k) != after.get(k);
        if changed("conditions") || changed("actions") {
            aws.call(Call::ElbMutate).await;
            aws.elb
                .modify_rule()
                .rule_arn(id)
                .set_conditions(Some(conditions(after)))
                .set_actions(Some(actions(after)?))
                .send()
                .await
                .map_err(aws_err)?;
        }
        // Moved alone here; the engine moves several rules' priorities together
        // (`set_together`) before their updates, which then see them as they are.
        if changed("priority") {
            if let Some(p) = after.get("priority") {
                self.set_together(aws, "priority", &[(id.to_string(), p.clone())]).await?;
            }
        }
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::ElbMutate).await;
            aws.elb.delete_rule().rule_arn(id).send().await.map(|_| ()).map_err(aws_err)
        })
        .await
    }
    /// The listener's rules tagged with the stack (a rule has no name, and its priority
    /// is what a resent create would collide on).
    async fn find_created(&self, aws: &Aws, c: &Create<'_>) -> Result<Vec<Described>, ProviderError> {
        let Some(listener) = str_attr(c.attrs, "listener_arn") else { return Ok(Vec::new()) };
        let arns: Vec<String> = rules_of(aws, listener).await?.iter().filter_map(|r| r.rule_arn()).map(str::to_string).collect();
        let tags = tags_of(aws, &arns).await?;
        let ours: Vec<String> =
            arns.into_iter().filter(|a| tags.get(a).and_then(|t| t.get(TAG_STACK)).is_some_and(|s| s == c.stack)).collect();
        describe(aws, &ours).await
    }
    /// One `SetRulePriorities` for all: AWS checks the new order as a whole, so rules
    /// may take each other's priorities.
    async fn set_together(&self, aws: &Aws, attr: &str, objects: &[(String, Value)]) -> Result<(), ProviderError> {
        if attr != "priority" {
            return Err(ProviderError::new(None, format!("a rule's `{attr}` is not set together with others'")));
        }
        aws.call(Call::ElbMutate).await;
        aws.elb.set_rule_priorities().set_rule_priorities(Some(priority_pairs(objects))).send().await.map_err(aws_err)?;
        Ok(())
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// The rules of the listeners found in the VPC, but their default ones.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let mut out = Vec::new();
        for listener in vpc.ids(&trellis_core::kinds::LISTENER) {
            let rules = rules_of(aws, listener).await?;
            out.extend(rules.iter().filter(|r| r.is_default() != Some(true)).filter_map(|r| r.rule_arn()).map(str::to_string));
        }
        Ok(out)
    }
}

fn priority_pairs(objects: &[(String, Value)]) -> Vec<RulePriorityPair> {
    objects
        .iter()
        .map(|(arn, p)| RulePriorityPair::builder().rule_arn(arn).set_priority(p.as_int().map(|p| p as i32)).build())
        .collect()
}

/// The listener a rule belongs to, from its ARN (`...:listener-rule/app/<lb>/<id>/<listener
/// id>/<rule id>` is the rule of `...:listener/app/<lb>/<id>/<listener id>`).
fn listener_of(rule: &str) -> Option<String> {
    let (head, rest) = rule.split_once(":listener-rule/")?;
    let (listener, _) = rest.rsplit_once('/')?;
    Some(format!("{head}:listener/{listener}"))
}

/// Every rule of a listener (its default one too); none when the listener is gone.
async fn rules_of(aws: &Aws, listener: &str) -> Result<Vec<Rule>, ProviderError> {
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        aws.call(Call::ElbDescribe).await;
        let call = aws.elb.describe_rules().listener_arn(listener).page_size(400).set_marker(marker);
        match call.send().await.map_err(aws_err) {
            Ok(page) => {
                out.extend(page.rules().iter().cloned());
                marker = page.next_marker().map(str::to_string);
                if marker.is_none() {
                    return Ok(out);
                }
            }
            Err(e) if is_code(&e, &["ListenerNotFound"]) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        }
    }
}

/// The rules these ARNs name that exist, one read per listener.
async fn describe(aws: &Aws, ids: &[String]) -> Result<Vec<Described>, ProviderError> {
    let mut by_listener: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for id in ids {
        if let Some(listener) = listener_of(id) {
            by_listener.entry(listener).or_default().insert(id.as_str());
        }
    }
    let mut rules = Vec::new();
    for (listener, wanted) in &by_listener {
        for r in rules_of(aws, listener).await? {
            if r.rule_arn().is_some_and(|a| wanted.contains(a)) {
                rules.push((listener.clone(), r));
            }
        }
    }
    let arns: Vec<String> = rules.iter().filter_map(|(_, r)| r.rule_arn().map(str::to_string)).collect();
    let tags = tags_of(aws, &arns).await?;
    Ok(rules
        .iter()
        .map(|(listener, r)| {
            let arn = r.rule_arn().unwrap_or_default();
            described_with(arn, tags.get(arn).cloned().unwrap_or_default(), observe(listener, r))
        })
        .collect())
}

fn observe(listener: &str, r: &Rule) -> Vec<(&'static str, Value)> {
    let priority = r.priority().and_then(|p| p.parse::<i64>().ok()).map(Value::Int).unwrap_or(Value::Null);
    vec![
        ("listener_arn", Value::str(listener)),
        ("priority", priority),
        ("conditions", Value::List(r.conditions().iter().map(condition_value).collect())),
        ("actions", Value::List(r.actions().iter().map(action_value).collect())),
    ]
}

fn strings(values: &[String]) -> Value {
    Value::List(values.iter().map(Value::str).collect())
}

/// A condition in the schema's shape: its field and that field's configuration. AWS
/// also gives host and path values in the older `Values`, read when the configuration
/// is missing.
fn condition_value(c: &RuleCondition) -> Value {
    let field = c.field().unwrap_or_default();
    let legacy = || map(vec![("values", strings(c.values()))]);
    let config = match field {
        "host-header" => ("host_header_config", c.host_header_config().map_or_else(legacy, |h| map(vec![("values", strings(h.values()))]))),
        "path-pattern" => ("path_pattern_config", c.path_pattern_config().map_or_else(legacy, |p| map(vec![("values", strings(p.values()))]))),
        "http-header" => (
            "http_header_config",
            c.http_header_config().map_or(Value::Null, |h| {
                map(vec![("http_header_name", opt_str(h.http_header_name())), ("values", strings(h.values()))])
            }),
        ),
        "http-request-method" => (
            "http_request_method_config",
            c.http_request_method_config().map_or(Value::Null, |m| map(vec![("values", strings(m.values()))])),
        ),
        "query-string" => (
            "query_string_config",
            c.query_string_config().map_or(Value::Null, |q| {
                let pairs = q
                    .values()
                    .iter()
                    .map(|kv| map(vec![("key", opt_str(kv.key())), ("value", opt_str(kv.value()))]))
                    .collect();
                map(vec![("values", Value::List(pairs))])
            }),
        ),
        "source-ip" => {
            ("source_ip_config", c.source_ip_config().map_or(Value::Null, |s| map(vec![("values", strings(s.values()))])))
        }
        _ => ("", Value::Null),
    };
    map(vec![("field", Value::str(field)), config])
}

/// The request's form of a condition written in the schema's shape.
fn condition(v: &Value) -> RuleCondition {
    let empty = BTreeMap::new();
    let m = v.as_map().unwrap_or(&empty);
    let field = m.get("field").and_then(Value::as_str).unwrap_or_default();
    let config = |k: &str| m.get(k).and_then(Value::as_map);
    let values = |k: &str| -> Option<Vec<String>> {
        let list = config(k)?.get("values")?.as_list();
        Some(list.iter().filter_map(Value::as_str).map(str::to_string).collect())
    };
    let b = RuleCondition::builder().field(field);
    match field {
        "host-header" => b.host_header_config(HostHeaderConditionConfig::builder().set_values(values("host_header_config")).build()),
        "path-pattern" => b.path_pattern_config(PathPatternConditionConfig::builder().set_values(values("path_pattern_config")).build()),
        "http-header" => b.http_header_config(
            HttpHeaderConditionConfig::builder()
                .set_http_header_name(config("http_header_config").and_then(|h| h.get("http_header_name")?.as_str()).map(str::to_string))
                .set_values(values("http_header_config"))
                .build(),
        ),
        "http-request-method" => b.http_request_method_config(
            HttpRequestMethodConditionConfig::builder().set_values(values("http_request_method_config")).build(),
        ),
        "query-string" => {
            let pairs = config("query_string_config").and_then(|q| q.get("values")).map(Value::as_list).unwrap_or_default();
            let pairs = pairs
                .iter()
                .filter_map(Value::as_map)
                .map(|kv| {
                    let s = |k: &str| kv.get(k).and_then(Value::as_str).map(str::to_string);
                    QueryStringKeyValuePair::builder().set_key(s("key")).set_value(s("value")).build()
                })
                .collect();
            b.query_string_config(QueryStringConditionConfig::builder().set_values(Some(pairs)).build())
        }
        "source-ip" => b.source_ip_config(SourceIpConditionConfig::builder().set_values(values("source_ip_config")).build()),
        _ => b,
    }
    .build()
}

fn conditions(attrs: &Attrs) -> Vec<RuleCondition> {
    attrs.get("conditions").map(Value::as_list).unwrap_or_default().iter().map(condition).collect()
}

fn actions(attrs: &Attrs) -> Result<Vec<Action>, ProviderError> {
    attrs.get("actions").map(Value::as_list).unwrap_or_default().iter().map(|a| action(Some(a))).collect()
}

fn request(b: CreateRuleFluentBuilder, c: &Create<'_>) -> Result<CreateRuleFluentBuilder, ProviderError> {
    let attrs = c.attrs;
    Ok(b.set_listener_arn(str_attr(attrs, "listener_arn").map(str::to_string))
        .set_priority(attrs.get("priority").and_then(Value::as_int).map(|p| p as i32))
        .set_conditions(Some(conditions(attrs)))
        .set_actions(Some(actions(attrs)?))
        .set_tags(Some(tags_for(c.stack, c.address, attrs.get("tags")))))
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::types::Rule;
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back, nested};
    use super::*;

    const ALL: &[&str] = &["listener_arn", "priority", "conditions", "actions", "tags"];
    const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2";

    /// A condition of each field, with its configuration from the schema.
    fn a_condition() -> BoxedStrategy<Value> {
        let with = |field: &'static str, key: &'static str| {
            roundtrip::value(nested("listener_rule", &["conditions", key]))
                .prop_map(move |v| Value::Map(roundtrip::collect(vec![("field", Value::str(field)), (key, v)])))
                .boxed()
        };
        prop_oneof![
            with("host-header", "host_header_config"),
            with("path-pattern", "path_pattern_config"),
            with("http-header", "http_header_config"),
            with("http-request-method", "http_request_method_config"),
            with("query-string", "query_string_config"),
            with("source-ip", "source_ip_config"),
        ]
        .boxed()
    }

    /// A weighted forward, as the schema lets it be written: two groups or more, or one
    /// with stickiness on.
    fn a_weighted_forward() -> BoxedStrategy<Value> {
        let group = ("[0-9a-f]{8}", 0i64..1000).prop_map(|(h, w)| {
            Value::Map(roundtrip::collect(vec![
                ("target_group_arn", Value::Str(format!("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/t/{h}"))),
                ("weight", Value::Int(w)),
            ]))
        });
        let sticky = prop::option::of((1i64..604_800).prop_map(|d| {
            Value::Map(roundtrip::collect(vec![("enabled", Value::Bool(true)), ("duration_seconds", Value::Int(d))]))
        }));
        (prop::collection::vec(group, 1..6), sticky)
            .prop_filter("two groups, or stickiness", |(g, s)| g.len() > 1 || s.is_some())
            .prop_map(|(groups, sticky)| {
                let mut f = vec![("target_groups", Value::List(groups))];
                if let Some(s) = sticky {
                    f.push(("target_group_stickiness_config", s));
                }
                Value::Map(roundtrip::collect(vec![
                    ("type", Value::str("forward")),
                    ("forward_config", Value::Map(roundtrip::collect(f))),
                ]))
            })
            .boxed()
    }

    proptest! {
        #[test]
        fn a_condition_comes_back_as_it_was_written(c in a_condition()) {
            prop_assert_eq!(condition_value(&condition(&c)), c);
        }

        #[test]
        fn a_weighted_forward_comes_back_as_it_was_written(a in a_weighted_forward()) {
            prop_assert_eq!(action_value(&action(Some(&a)).unwrap()), a);
        }

        #[test]
        fn a_rule_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("listener_rule", ALL, vec![
                ("listener_arn", Just(Value::str(LISTENER)).boxed()),
                ("conditions", prop::collection::vec(a_condition(), 1..4).prop_map(Value::List).boxed()),
                ("actions", a_weighted_forward().prop_map(|a| Value::List(vec![a])).boxed()),
            ]),
        ) {
            let address = roundtrip::address("listener_rule");
            let sent = request(roundtrip::elb().create_rule(), &roundtrip::create(&address, &attrs)).unwrap();
            let input = sent.as_input();
            let answer = Rule::builder()
                .rule_arn(format!("{}/0123456789abcdef", LISTENER.replace(":listener/", ":listener-rule/")))
                .set_priority(input.get_priority().map(|p| p.to_string()))
                .set_conditions(input.get_conditions().clone())
                .set_actions(input.get_actions().clone())
                .build();
            let listener = listener_of(answer.rule_arn().unwrap()).unwrap();
            let tags = roundtrip::tag_pairs(input.get_tags().iter().flatten().map(|t| (t.key(), t.value())));
            let back = described_with("arn:rule", tags, observe(&listener, &answer)).attrs;
            gives_back(&attrs, &back, ALL)?;
        }
    }

    #[test]
    fn a_rules_listener_is_read_from_its_arn() {
        let rule = format!("{}/9683b2d02a6cabee", LISTENER.replace(":listener/", ":listener-rule/"));
        assert_eq!(listener_of(&rule).as_deref(), Some(LISTENER));
        assert_eq!(listener_of(LISTENER), None);
    }

    #[test]
    fn priorities_are_sent_as_pairs_in_one_request() {
        let pairs = priority_pairs(&[("a".into(), Value::Int(2)), ("b".into(), Value::Int(1))]);
        let got: Vec<(Option<&str>, Option<i32>)> = pairs.iter().map(|p| (p.rule_arn(), p.priority())).collect();
        assert_eq!(got, vec![(Some("a"), Some(2)), (Some("b"), Some(1))]);
    }
}
