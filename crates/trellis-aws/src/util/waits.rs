//! Waiting on AWS: polls until ready, reads of objects a listing just showed, deletes
//! retried while something still uses the object, and what that something is.

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, RouteTable, Tag};
use trellis_core::{Address, ProviderError};

use super::{is_code, NOT_FOUND};
use crate::aws::Aws;
use crate::limits::Call;
use crate::progress::{Event, Until};
use crate::{TAG_ADDRESS, TAG_STACK};

/// Calls `f` until it returns `Some`, backing off up to `limit`; tells that `subject`
/// is awaited `until` while waiting. Errors end the wait at once, except "not found"
/// (eventual consistency).
pub(crate) async fn retry_until<T, F, Fut>(
    aws: &Aws,
    limit: Duration,
    subject: &str,
    until: Until,
    mut f: F,
) -> Result<T, ProviderError>
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
            let waited = limit.as_secs();
            return Err(ProviderError::new(
                Some("Timeout"),
                format!("{subject}: not {until} after {waited}s; gave up"),
            ));
        }
        if !said || delay >= Duration::from_secs(8) {
            aws.tell(Event::Waiting { subject: subject.to_string(), until: until.clone(), now: None });
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
                    if over {
                        let waited = start.elapsed().as_secs();
                        let users = if users.is_empty() {
                            String::new()
                        } else {
                            format!("; still using it: {}", users.join(", "))
                        };
                        return Err(ProviderError {
                            code: e.code.clone(),
                            message: format!("{} (gave up after {waited}s{users})", e.message),
                        });
                    }
                    let (address, id, error) = (address.to_string(), id.to_string(), Some(e.to_string()));
                    aws.tell(Event::StillInUse { address, id, error, users, retry_in: delay });
                    first = false;
                } else {
                    let (address, id) = (address.to_string(), id.to_string());
                    aws.tell(Event::StillInUse { address, id, error: None, users: Vec::new(), retry_in: delay });
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
