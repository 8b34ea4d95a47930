//! What the translation property tests share. Each kind's module tests that its
//! translation gives back what it was given: attributes in the schema's shape → the
//! request trellis builds → the answer AWS gives for the object so made → attributes.
//! The answer is the test's model of AWS (the object as the request describes it); the
//! end-to-end tests check the same against the emulator.

use std::collections::BTreeMap;

use proptest::prelude::*;
use trellis_core::schema::{normalize_set, Mode, Object, Type};
use trellis_core::{kinds, Address, Attrs, Value};

/// Request builders need a client; these are never sent.
pub fn config<C>(build: impl FnOnce(aws_config::SdkConfig) -> C) -> C {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    build(sdk)
}

pub fn ec2() -> aws_sdk_ec2::Client {
    config(|c| aws_sdk_ec2::Client::new(&c))
}

pub fn elb() -> aws_sdk_elasticloadbalancingv2::Client {
    config(|c| aws_sdk_elasticloadbalancingv2::Client::new(&c))
}

pub fn asg() -> aws_sdk_autoscaling::Client {
    config(|c| aws_sdk_autoscaling::Client::new(&c))
}

pub fn rds() -> aws_sdk_rds::Client {
    config(|c| aws_sdk_rds::Client::new(&c))
}

pub fn cloudwatch() -> aws_sdk_cloudwatch::Client {
    config(|c| aws_sdk_cloudwatch::Client::new(&c))
}

pub fn iam() -> aws_sdk_iam::Client {
    config(|c| aws_sdk_iam::Client::new(&c))
}

pub fn address(kind: &str) -> Address {
    format!("{kind}.under_test").parse().unwrap()
}

/// A value of the schema type `ty`.
pub fn value(ty: &'static Type) -> BoxedStrategy<Value> {
    match ty {
        Type::Str => "[a-z][a-z0-9-]{0,11}".prop_map(Value::Str).boxed(),
        Type::Int => (0i64..100_000).prop_map(Value::Int).boxed(),
        Type::Version => prop_oneof![
            (1i64..1000).prop_map(Value::Int),
            prop::sample::select(vec!["$Default", "$Latest"]).prop_map(Value::str),
        ]
        .boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Cidr => (0u32..=u32::MAX, 16u32..=28)
            .prop_map(|(ip, len)| {
                let ip = ip & (u32::MAX << (32 - len));
                let o = ip.to_be_bytes();
                Value::Str(format!("{}.{}.{}.{}/{len}", o[0], o[1], o[2], o[3]))
            })
            .boxed(),
        Type::IpCidr => prop_oneof![
            value(&Type::Cidr),
            Just(Value::str("::/0")),
            (0u16..=0xffff, 1u16..=0xff).prop_map(|(a, b)| Value::Str(format!("2600:1f18:{a:x}:{b:x}00::/56"))),
        ]
        .boxed(),
        Type::Enum(words) => prop::sample::select(words.to_vec()).prop_map(Value::str).boxed(),
        Type::Protocol => prop::sample::select(vec!["tcp", "udp", "icmp", "all"]).prop_map(Value::str).boxed(),
        Type::Port => (1i64..65_536).prop_map(Value::Int).boxed(),
        Type::Ref(kind) => {
            let prefix = kinds::get(kind).map(|k| k.id_prefix).unwrap_or("");
            let prefix = if prefix == "arn:" {
                format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:{kind}/")
            } else {
                prefix.to_string()
            };
            "[0-9a-f]{8,17}".prop_map(move |hex| Value::Str(format!("{prefix}{hex}"))).boxed()
        }
        Type::List(item) => prop::collection::vec(value(item), 0..4).prop_map(Value::List).boxed(),
        Type::Set(item) => prop::collection::vec(value(item), 0..4)
            .prop_map(|mut items| {
                normalize_set(&mut items);
                Value::List(items)
            })
            .boxed(),
        Type::Object(o) => object(o).prop_map(Value::Map).boxed(),
        Type::Map => tags().prop_map(Value::Map).boxed(),
        // A kind with a document gives a strategy of its own for it (`attrs`' `fixed`).
        Type::Document => tags().prop_map(Value::Map).boxed(),
    }
}

/// User tags: never trellis's own keys.
pub fn tags() -> BoxedStrategy<BTreeMap<String, Value>> {
    prop::collection::btree_map("[A-Z][A-Za-z0-9]{0,8}", "[a-z0-9 .]{0,10}".prop_map(Value::Str), 0..4).boxed()
}

/// Every settable attribute of a nested object; the optional ones may be left out, and
/// then hold their defaults, as the parser fills them in.
fn object(o: &'static Object) -> BoxedStrategy<BTreeMap<String, Value>> {
    let names: Vec<&'static str> = o.attrs.iter().filter(|a| a.settable() && !a.local).map(|a| a.name).collect();
    some_of(o, &names, Vec::new())
        .prop_map(move |mut m| {
            for a in o.attrs.iter().filter(|a| a.mode == Mode::Optional) {
                if let (false, Some(v)) = (m.contains_key(a.name), a.default_value("", "")) {
                    m.insert(a.name.to_string(), v);
                }
            }
            m
        })
        .boxed()
}

fn some_of(
    o: &'static Object,
    names: &[&'static str],
    mut fixed: Vec<(&'static str, BoxedStrategy<Value>)>,
) -> BoxedStrategy<BTreeMap<String, Value>> {
    let mut parts: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for name in names {
        let a = o.attr(name).unwrap_or_else(|| panic!("no attribute {name}"));
        let strategy = match fixed.iter().position(|(n, _)| n == name) {
            Some(i) => fixed.swap_remove(i).1,
            None => value(&a.ty),
        };
        let name = name.to_string();
        parts.push(if a.mode == Mode::Required {
            strategy.prop_map(move |v| Some((name.clone(), v))).boxed()
        } else {
            proptest::option::of(strategy).prop_map(move |v| v.map(|v| (name.clone(), v))).boxed()
        });
    }
    parts.prop_map(|items| items.into_iter().flatten().collect()).boxed()
}

/// Attributes of `kind`: those named, each drawn from its schema type unless `fixed`
/// gives a strategy of its own (a value that only makes sense in one shape).
pub fn attrs(
    kind: &str,
    names: &[&'static str],
    fixed: Vec<(&'static str, BoxedStrategy<Value>)>,
) -> BoxedStrategy<Attrs> {
    let k = kinds::get(kind).unwrap_or_else(|| panic!("no kind {kind}"));
    let names: Vec<&'static str> = names.to_vec();
    // What the planner sends for an attribute the spec leaves out: its default.
    some_of(&k.object, &names, fixed)
        .prop_map(move |mut attrs| {
            for name in &names {
                let a = k.attr(name).unwrap();
                if let (false, Some(d)) = (attrs.contains_key(*name), a.default_value("st", "under_test")) {
                    attrs.insert(name.to_string(), d);
                }
            }
            attrs
        })
        .boxed()
}

/// The attributes `names` came back as they were sent (an unset one as null, unset
/// tags as none).
pub fn gives_back(sent: &Attrs, back: &Attrs, names: &[&str]) -> Result<(), TestCaseError> {
    for name in names {
        let unset = if *name == "tags" { Value::Map(BTreeMap::new()) } else { Value::Null };
        let want = sent.get(*name).cloned().unwrap_or(unset);
        let got = back.get(*name).cloned().unwrap_or(Value::Null);
        prop_assert_eq!(&got, &want, "`{}` did not come back as sent", name);
    }
    Ok(())
}

/// Attributes from a kind's `(name, value)` pairs.
pub fn collect(pairs: Vec<(&str, Value)>) -> Attrs {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// What a kind's create is given, for `attrs`.
pub fn create<'a>(address: &'a Address, attrs: &'a Attrs) -> super::Create<'a> {
    super::Create { stack: "st", address, attrs, token: "token", suffix: false }
}

/// The tags of an EC2 request's tag specifications, as AWS gives them back.
pub fn ec2_tags(specs: &Option<Vec<aws_sdk_ec2::types::TagSpecification>>) -> Vec<aws_sdk_ec2::types::Tag> {
    specs.iter().flatten().flat_map(|s| s.tags().to_vec()).collect()
}

/// The type of a nested attribute: `nested("listener", &["default_actions", "redirect_config"])`.
pub fn nested(kind: &str, path: &[&str]) -> &'static Type {
    let mut o: &'static Object = &kinds::get(kind).unwrap().object;
    let mut ty = None;
    for name in path {
        let a = o.attr(name).unwrap_or_else(|| panic!("no attribute {name}"));
        ty = Some(&a.ty);
        // Into a list's or set's items, then into their object.
        let item = match &a.ty {
            Type::List(t) | Type::Set(t) => t,
            t => t,
        };
        if let Type::Object(inner) = item {
            o = inner;
        }
    }
    ty.unwrap()
}

/// Tags given to a service that takes key/value pairs (ELB, Auto Scaling), as its
/// tag read gives them back.
pub fn tag_pairs<'a>(pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) -> BTreeMap<String, String> {
    pairs.into_iter().filter_map(|(k, v)| Some((k?.to_string(), v.unwrap_or("").to_string()))).collect()
}
