use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{Filter, ResourceType, RouteTable, Tag, TagSpecification};
use trellis_core::{Address, ProviderError, Value};

use crate::limits::Call;
use crate::{Aws, Described, TAG_ADDRESS, TAG_STACK};
use aws_smithy_async::future::pagination_stream::PaginationStream;

/// Which objects a describe call asks for.
#[derive(Clone, Copy)]
pub(crate) enum Select<'a> {
    /// Everything tagged with this stack.
    Stack(&'a str),
    /// These ids (through a filter, so a missing id is simply absent).
    Ids(&'a [String]),
}

impl Select<'_> {
    /// The filter for this selection; `id_filter` is the kind's id filter name.
    pub fn filter(&self, id_filter: &str) -> Filter {
        match self {
            Select::Stack(stack) => Filter::builder().name(format!("tag:{TAG_STACK}")).values(*stack).build(),
            Select::Ids(ids) => Filter::builder().name(id_filter).set_values(Some(ids.to_vec())).build(),
        }
    }
}

/// An SDK error as trellis reports it: AWS's code and message, or, when AWS gave no
/// answer to show, one of trellis's own codes for what went wrong on the way
/// (`NetworkError`, `RequestTimeout`, `UnreadableResponse`; `errors.rs` classes them).
pub(crate) fn aws_err<E>(e: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = || aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
    let (code, message) = match (e.code(), e.message(), &e) {
        (Some(c), m, _) => (Some(c.to_string()), m.map(str::to_string).unwrap_or_default()),
        (None, _, SdkError::ServiceError(se)) => {
            let status = se.raw().status().as_u16();
            match status {
                // A success whose body could not be read as the answer.
                200..=299 => (
                    Some("UnreadableResponse".into()),
                    format!("the endpoint's answer (HTTP {status}) could not be read"),
                ),
                500.. => (
                    Some("InternalError".into()),
                    format!("the endpoint answered HTTP {status} with no AWS error in the body"),
                ),
                _ => (
                    Some("HttpError".into()),
                    format!("the endpoint answered HTTP {status} with no AWS error in the body"),
                ),
            }
        }
        (None, _, SdkError::TimeoutError(_)) => (Some("RequestTimeout".into()), "the request timed out".into()),
        (None, _, SdkError::DispatchFailure(_)) => {
            let more = if verbose() { format!(" ({})", detail()) } else { String::new() };
            (Some("NetworkError".into()), format!("could not reach the endpoint: {}{more}", root_cause(&e)))
        }
        (None, _, SdkError::ConstructionFailure(_)) => {
            let more = if verbose() { format!(" ({})", detail()) } else { String::new() };
            (Some("InvalidRequest".into()), format!("the request could not be built: {}{more}", root_cause(&e)))
        }
        (None, _, SdkError::ResponseError(_)) => {
            (Some("UnreadableResponse".into()), "the endpoint's answer could not be read".into())
        }
        (None, _, _) => (None, detail()),
    };
    ProviderError { code, message }
}

/// The innermost cause of an error: the part a person can act on ("Connection refused").
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Whether the SDK's own detail is wanted in messages (`TRELLIS_LOG=debug`, which
/// `--verbose` sets).
pub(crate) fn verbose() -> bool {
    std::env::var("TRELLIS_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("debug"))
}

pub(crate) fn is_code(e: &ProviderError, codes: &[&str]) -> bool {
    e.code.as_deref().is_some_and(|c| crate::errors::matches(c, codes))
}

/// Every page of a paginated EC2 describe, each page drawing a describe token.
pub(crate) async fn pages<O, E>(
    aws: &Aws,
    stream: PaginationStream<Result<O, SdkError<E, HttpResponse>>>,
) -> Result<Vec<O>, ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    pages_with(aws, Call::Describe, stream).await
}

/// Every page of a paginated read, each page drawing a token of `class`.
pub(crate) async fn pages_with<O, E>(
    aws: &Aws,
    class: Call,
    mut stream: PaginationStream<Result<O, SdkError<E, HttpResponse>>>,
) -> Result<Vec<O>, ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut out = Vec::new();
    loop {
        // The token is taken before each poll; the call is counted only when a page came,
        // since the poll after the last page makes no request.
        aws.limits.take(class).await;
        match stream.next().await {
            Some(page) => {
                aws.count_call();
                out.push(page.map_err(aws_err)?)
            }
            None => return Ok(out),
        }
    }
}

pub(crate) use crate::errors::NOT_FOUND;

/// Calls `f` until it returns `Some`, backing off up to `limit`; says `what` while
/// waiting. Errors end the wait at once, except "not found" (eventual consistency).
pub(crate) async fn retry_until<T, F, Fut>(aws: &Aws, limit: Duration, what: &str, mut f: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut said = false;
    loop {
        match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) if is_code(&e, NOT_FOUND) => {}
            Err(e) => return Err(e),
        }
        if start.elapsed() >= limit {
            return Err(ProviderError::new(Some("Timeout"), format!("{what}: gave up after {}s", limit.as_secs())));
        }
        if !said || delay >= Duration::from_secs(8) {
            aws.say(what);
            said = true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}

/// A per-object read of an object a listing has just returned (VPC DNS attributes, an
/// instance's user data). The listing says the object exists, so "not found" here is
/// AWS not showing a new object to this call yet: asked again for about 8 seconds.
pub(crate) async fn read_listed<T, F, Fut>(mut f: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut delay = Duration::from_millis(250);
    loop {
        match f().await {
            Err(e) if is_code(&e, NOT_FOUND) && delay <= Duration::from_secs(4) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            other => return other,
        }
    }
}

/// Deletes through `f`, retrying while AWS answers `DependencyViolation` (something
/// still uses the object, often for a while after it was itself deleted). At the first
/// retry and when it gives up it says what still uses the object. An object already
/// gone counts as deleted.
pub(crate) async fn delete_with_retry<F, Fut>(
    aws: &Aws,
    address: &Address,
    id: &str,
    mut f: F,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), ProviderError>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_secs(1);
    let mut first = true;
    loop {
        match f().await {
            Ok(()) => return Ok(()),
            Err(e) if is_code(&e, NOT_FOUND) => return Ok(()),
            Err(e) if crate::errors::class_of(&e, &aws.recent) == crate::errors::Class::InUse => {
                aws.stats.count(crate::errors::Class::InUse);
                let over = start.elapsed() >= aws.timeouts.delete;
                if first || over {
                    let users = what_uses(aws, id).await;
                    let users = if users.is_empty() {
                        String::new()
                    } else {
                        format!("; still using it: {}", users.join(", "))
                    };
                    if over {
                        let waited = start.elapsed().as_secs();
                        return Err(ProviderError {
                            code: e.code.clone(),
                            message: format!("{} (gave up after {waited}s{users})", e.message),
                        });
                    }
                    aws.say(&format!("{address}: {id} is still in use ({e}){users}; retrying the delete"));
                    first = false;
                } else {
                    aws.say(&format!("{address}: still in use; retrying the delete of {id} in {}s", delay.as_secs()));
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// What keeps a VPC, subnet or security group from being deleted: network interfaces
/// and instances in it, and for a VPC the objects still in it: subnets, security groups,
/// route tables, network ACLs and gateways (with the trellis address
/// tag of each, so objects of this stack that no state knows stand out). Best effort: a
/// read that fails leaves its part out. Longer than most: one short describe per kind
/// of dependent, in the order the message lists them.
pub(crate) async fn what_uses(aws: &Aws, id: &str) -> Vec<String> {
    let filter = |name: &str| Filter::builder().name(name).values(id).build();
    let scope = match id.split('-').next() {
        Some("vpc") => "vpc-id",
        Some("subnet") => "subnet-id",
        Some("sg") => "group-id",
        _ => return Vec::new(),
    };
    let label = |kind: &str, object: &str, tags: &[Tag]| {
        let address = tags.iter().find(|t| t.key() == Some(TAG_ADDRESS)).and_then(|t| t.value());
        let stack = tags.iter().find(|t| t.key() == Some(TAG_STACK)).and_then(|t| t.value());
        match (address, stack) {
            (Some(a), Some(s)) => format!("{kind} {object} ({a} of stack {s})"),
            _ => format!("{kind} {object}"),
        }
    };
    let mut out = Vec::new();
    aws.call(Call::Describe).await;
    if let Ok(enis) = aws.ec2.describe_network_interfaces().filters(filter(scope)).send().await {
        for n in enis.network_interfaces() {
            let what = n.description().filter(|d| !d.is_empty()).map(|d| format!(" \"{d}\"")).unwrap_or_default();
            out.push(format!("network interface {}{what}", n.network_interface_id().unwrap_or("?")));
        }
    }
    let instance_scope = if scope == "group-id" { "instance.group-id" } else { scope };
    aws.call(Call::Describe).await;
    if let Ok(found) = aws.ec2.describe_instances().filters(filter(instance_scope)).send().await {
        for i in found.reservations().iter().flat_map(|r| r.instances()) {
            let gone = i.state().and_then(|s| s.name()).is_some_and(|n| n.as_str() == "terminated");
            if !gone {
                out.push(label("instance", i.instance_id().unwrap_or("?"), i.tags()));
            }
        }
    }
    if scope == "vpc-id" {
        aws.call(Call::Describe).await;
        if let Ok(s) = aws.ec2.describe_subnets().filters(filter("vpc-id")).send().await {
            out.extend(s.subnets().iter().map(|s| label("subnet", s.subnet_id().unwrap_or("?"), s.tags())));
        }
        aws.call(Call::Describe).await;
        if let Ok(g) = aws.ec2.describe_security_groups().filters(filter("vpc-id")).send().await {
            out.extend(
                g.security_groups()
                    .iter()
                    .filter(|g| g.group_name() != Some("default"))
                    .map(|g| label("security group", g.group_id().unwrap_or("?"), g.tags())),
            );
        }
        aws.call(Call::Describe).await;
        if let Ok(t) = aws.ec2.describe_route_tables().filters(filter("vpc-id")).send().await {
            let main = |t: &&RouteTable| t.associations().iter().any(|a| a.main() == Some(true));
            out.extend(
                t.route_tables()
                    .iter()
                    .filter(|t| !main(t))
                    .map(|t| label("route table", t.route_table_id().unwrap_or("?"), t.tags())),
            );
        }
        aws.call(Call::Describe).await;
        if let Ok(a) = aws.ec2.describe_network_acls().filters(filter("vpc-id")).send().await {
            out.extend(
                a.network_acls()
                    .iter()
                    .filter(|a| a.is_default() != Some(true))
                    .map(|a| label("network ACL", a.network_acl_id().unwrap_or("?"), a.tags())),
            );
        }
        aws.call(Call::Describe).await;
        if let Ok(g) = aws.ec2.describe_internet_gateways().filters(filter("attachment.vpc-id")).send().await {
            out.extend(
                g.internet_gateways()
                    .iter()
                    .map(|g| label("internet gateway", g.internet_gateway_id().unwrap_or("?"), g.tags())),
            );
        }
    }
    if scope == "group-id" {
        // Rules of other groups that name this one.
        aws.call(Call::Describe).await;
        if let Ok(g) = aws.ec2.describe_security_groups().filters(filter("ip-permission.group-id")).send().await {
            out.extend(
                g.security_groups()
                    .iter()
                    .filter(|g| g.group_id() != Some(id))
                    .map(|g| label("a rule of security group", g.group_id().unwrap_or("?"), g.tags())),
            );
        }
    }
    out
}

/// The tags trellis puts on a new object: the user's (with `Name`), plus its own.
pub(crate) fn tag_spec(rt: ResourceType, stack: &str, address: &Address, tags: Option<&Value>) -> TagSpecification {
    let all = all_tags(stack, address, tags);
    TagSpecification::builder()
        .resource_type(rt)
        .set_tags(Some(all.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
        .build()
}

pub(crate) fn tag_map(tags: Option<&Value>) -> BTreeMap<String, String> {
    tags.and_then(Value::as_map)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default()
}

/// Brings an object's user tags from `before` to `after` (trellis's own tags stay).
pub(crate) async fn sync_tags(
    aws: &Aws,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    let set: Vec<Tag> = set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    let unset: Vec<Tag> = unset.iter().map(|k| Tag::builder().key(k).build()).collect();
    if !set.is_empty() {
        aws.call(Call::Mutate).await;
        aws.ec2.create_tags().resources(id).set_tags(Some(set)).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        aws.call(Call::Mutate).await;
        aws.ec2.delete_tags().resources(id).set_tags(Some(unset)).send().await.map_err(aws_err)?;
    }
    Ok(())
}

/// Builds a `Described` from an id, its tags and attributes, adding `id` and `tags`.
pub(crate) fn described(id: &str, tags: &[Tag], attrs: Vec<(&str, Value)>) -> Described {
    let all = tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
    described_with(id, all, attrs)
}

/// The same from tags already read into a map (services other than EC2).
pub(crate) fn described_with(id: &str, all: BTreeMap<String, String>, mut attrs: Vec<(&str, Value)>) -> Described {
    let visible =
        all.iter().filter(|(k, _)| !k.starts_with("trellis:")).map(|(k, v)| (k.clone(), Value::str(v))).collect();
    attrs.push(("tags", Value::Map(visible)));
    attrs.push(("id", Value::str(id)));
    Described { id: id.to_string(), tags: all, attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect() }
}

/// The user's tags plus trellis's own, as the key/value pairs every service takes.
pub(crate) fn all_tags(stack: &str, address: &Address, tags: Option<&Value>) -> BTreeMap<String, String> {
    let mut all = tag_map(tags);
    all.insert(TAG_STACK.into(), stack.into());
    all.insert(TAG_ADDRESS.into(), address.tag_value());
    all
}

/// What tags to set and which keys to remove to go from `before` to `after`.
pub(crate) fn tag_changes(before: Option<&Value>, after: Option<&Value>) -> (BTreeMap<String, String>, Vec<String>) {
    let (b, a) = (tag_map(before), tag_map(after));
    let set = a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let unset = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    (set, unset)
}

/// A name trellis makes up for an object whose spec leaves the name out: `<stack>-<name>`
/// with only letters, digits and hyphens, at most `max` long; `suffix` adds a few random
/// hex digits for when the plain name is taken (a replacement made before the old goes).
pub(crate) fn generated_name(stack: &str, address: &Address, max: usize, suffix: bool) -> String {
    let mut base: String = format!("{stack}-{}", address.label())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    let tail = if suffix {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        format!("-{:04x}", (nanos ^ (nanos >> 16)) & 0xffff)
    } else {
        String::new()
    };
    base.truncate(max - tail.len());
    let base = base.trim_end_matches('-');
    format!("{base}{tail}")
}

/// Creates through `f(name)`, with the name from the spec or a generated one (with a
/// suffix when the create loop asks for one: the plain name is held by the object being
/// replaced). Returns what `f` returned.
pub(crate) async fn create_named<T, F, Fut>(
    c: &crate::kinds::Create<'_>,
    name_attr: &str,
    f: F,
) -> Result<T, ProviderError>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    // The schema says how long a name AWS takes.
    let max = c.address.kind.attr(name_attr).and_then(|a| a.max_len).unwrap_or(255);
    match str_attr(c.attrs, name_attr) {
        Some(name) => f(name.to_string()).await,
        None => f(generated_name(c.stack, c.address, max, c.suffix)).await,
    }
}

pub(crate) fn opt_int(v: Option<i32>) -> Value {
    v.map(|i| Value::Int(i.into())).unwrap_or(Value::Null)
}

pub(crate) fn opt_str(v: Option<&str>) -> Value {
    v.map(Value::str).unwrap_or(Value::Null)
}

pub(crate) fn str_attr<'a>(attrs: &'a trellis_core::Attrs, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(Value::as_str)
}

pub(crate) fn bool_attr(attrs: &trellis_core::Attrs, name: &str) -> Option<bool> {
    attrs.get(name).and_then(Value::as_bool)
}

pub(crate) fn list_attr<'a>(attrs: &'a trellis_core::Attrs, name: &str) -> &'a [Value] {
    attrs.get(name).map(Value::as_list).unwrap_or(&[])
}

/// Items of `want` missing from `have`.
pub(crate) fn missing_from<'a>(want: &'a [Value], have: &[Value]) -> Vec<&'a Value> {
    want.iter().filter(|w| !have.contains(w)).collect()
}

/// AWS's protocol names and numbers, as the spec writes them.
pub(crate) fn protocol_name(p: &str) -> String {
    match p {
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "-1" | "all" => "all".into(),
        other => other.into(),
    }
}

pub(crate) fn protocol_number(p: &str) -> &str {
    match p {
        "tcp" => "6",
        "udp" => "17",
        "icmp" => "1",
        "all" => "-1",
        other => other,
    }
}

/// User data as AWS returns it (base64), as the text the spec gave.
pub(crate) fn decode_user_data(b64: Option<&str>) -> Value {
    use base64::Engine;
    match b64.filter(|b| !b.is_empty()) {
        None => Value::Null,
        Some(b) => match base64::engine::general_purpose::STANDARD.decode(b) {
            Ok(bytes) => Value::Str(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => Value::str(b),
        },
    }
}

/// The spec's text as AWS takes user data (base64).
pub(crate) fn encode_user_data(attrs: &trellis_core::Attrs) -> Option<String> {
    use base64::Engine;
    str_attr(attrs, "user_data").map(|u| base64::engine::general_purpose::STANDARD.encode(u))
}

/// A document attribute (`Type::Document`) as the JSON IAM takes.
pub(crate) fn document_json(v: &Value) -> String {
    fn json(v: &Value) -> serde_json::Value {
        match v {
            Value::Map(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
            Value::List(items) => serde_json::Value::Array(items.iter().map(json).collect()),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Null => serde_json::Value::Null,
            other => serde_json::Value::String(other.as_str().unwrap_or_default().to_string()),
        }
    }
    json(v).to_string()
}

/// A document as AWS returns it (JSON, URL-encoded by IAM) in the shape the spec
/// writes it: mappings, lists and strings (JSON's numbers and booleans as their text).
pub(crate) fn document_value(text: &str) -> Value {
    fn value(j: serde_json::Value) -> Value {
        match j {
            serde_json::Value::Object(m) => Value::Map(m.into_iter().map(|(k, v)| (k, value(v))).collect()),
            serde_json::Value::Array(items) => Value::List(items.into_iter().map(value).collect()),
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Null => Value::Null,
            other => Value::Str(other.to_string()),
        }
    }
    let text = text.trim();
    let decoded = if text.starts_with('{') {
        std::borrow::Cow::Borrowed(text)
    } else {
        percent_encoding::percent_decode_str(text).decode_utf8_lossy()
    };
    match serde_json::from_str(&decoded) {
        Ok(j) => value(j),
        // Not JSON: shown as the text AWS gave, so the plan names the difference.
        Err(_) => Value::Str(decoded.into_owned()),
    }
}
