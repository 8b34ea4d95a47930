//! The one table of AWS errors: every error trellis sees is put in one class here, and
//! each class has one retry policy.
//!
//! | class | what AWS said | policy |
//! |---|---|---|
//! | throttling | `RequestLimitExceeded`, `Throttling`, `ThrottlingException`, `TooManyRequestsException`, … | the request never ran: sent again after a backoff (the SDK's, for every call; the create loop's own for creates) |
//! | transient | HTTP 5xx, `InternalError`, `ServiceUnavailable`, `RequestTimeout`, a reset connection, a reply that cannot be read | sent again, except a create: its outcome is unknown, so it is looked up first |
//! | eventual consistency | `*.NotFound`, `NoSuchEntity` or EC2's "Invalid IAM Instance Profile name", naming an id this run made, changed or saw listed less than [`PROPAGATION`] ago | sent again with backoff until the window closes, saying what is awaited |
//! | exists | an answer that the object already exists (`InvalidSubnet.Conflict`, `InvalidGroup.Duplicate`, `DuplicateTargetGroupName`, `DBInstanceAlreadyExists`, …) | to a create: it may be this run's own earlier attempt, so it is looked up |
//! | already done | `Resource.AlreadyAssociated`, `RouteAlreadyExists`, `NetworkAclEntryAlreadyExists`, `InvalidPermission.Duplicate` | the answer to a change the SDK resent after a lost reply: success, and the read-back after apply checks it |
//! | in use | `DependencyViolation`, `ResourceInUse`, `InvalidGroup.InUse`, … | a delete waits and tries again, naming what still uses the object |
//! | fatal | everything else | fails at once, naming the address, AWS's code and message |

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction, RetryClassifierPriority};
use trellis_core::ProviderError;

/// How long a new or changed object may stay invisible to other calls. AWS documents
/// eventual consistency for EC2 without a bound; terraform-provider-aws waits about two
/// minutes for a new object to propagate, and so does trellis.
pub(crate) const PROPAGATION: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Throttling,
    Transient,
    EventualConsistency,
    Exists,
    InUse,
    Fatal,
}

/// Codes of each class; a code ending in `.` matches every code it begins.
const THROTTLING: &[&str] = &[
    "RequestLimitExceeded",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "BandwidthLimitExceeded",
];
const TRANSIENT: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
    "RequestTimeout",
    "RequestTimeoutException",
    // What trellis calls a failure with no answer from AWS (see `util::aws_err`).
    "NetworkError",
    "UnreadableResponse",
];
const EXISTS: &[&str] = &[
    "InvalidSubnet.Conflict",
    "InvalidGroup.Duplicate",
    "InvalidLaunchTemplateName.AlreadyExistsException",
    "DuplicateTargetGroupName",
    "DuplicateLoadBalancerName",
    "DuplicateListener",
    // A rule's priority: a resent CreateRule whose first send made the rule.
    "PriorityInUse",
    // A resent CreateHostedZone: its caller reference is taken by the first send.
    "HostedZoneAlreadyExists",
    "AlreadyExists",
    "AlreadyExistsFault",
    "DBInstanceAlreadyExists",
    "DBInstanceAlreadyExistsFault",
    "DBSubnetGroupAlreadyExists",
    "DBSubnetGroupAlreadyExistsFault",
    "DBParameterGroupAlreadyExists",
    "DBParameterGroupAlreadyExistsFault",
    "EntityAlreadyExists",
    "InvalidKeyPair.Duplicate",
    // EFS: a resent CreateFileSystem (its creation token taken by the first send), and
    // a second mount target in a zone that has the first.
    "FileSystemAlreadyExists",
    "MountTargetConflict",
];
const IN_USE: &[&str] = &[
    "DependencyViolation",
    "InvalidGroup.InUse",
    "ResourceInUse",
    // ACM: a certificate a listener still serves (the listener goes first, then this).
    "ResourceInUseException",
    "ScalingActivityInProgress",
    "InvalidDBSubnetGroupStateFault",
    "InvalidDBParameterGroupState",
    "DeleteConflict",
    // EFS: a file system whose mount targets are still being deleted.
    "FileSystemInUse",
    // RDS: an option group a database still uses.
    "InvalidOptionGroupStateFault",
];

/// Answers to a change that the SDK sent again after a lost reply, saying the first
/// attempt already did it: success for the call (the read-back after apply checks the
/// object really is as planned).
const ALREADY_DONE: &[&str] = &[
    "Resource.AlreadyAssociated",
    "RouteAlreadyExists",
    "NetworkAclEntryAlreadyExists",
    "InvalidPermission.Duplicate",
];

/// Whether the error says a resent change had already been made.
pub(crate) fn already_done(e: &ProviderError) -> bool {
    e.code.as_deref().is_some_and(|c| matches(c, ALREADY_DONE))
}

/// Whether `code` is in `table` (an entry ending in `.` matches every code it begins).
pub(crate) fn matches(code: &str, table: &[&str]) -> bool {
    table.iter().any(|p| *p == code || (p.ends_with('.') && code.starts_with(p)))
}

/// Error codes that mean "no such object" for the kinds here: to a describe or a delete,
/// the object is gone; naming a young id, eventual consistency.
pub(crate) const NOT_FOUND: &[&str] = &[
    "InvalidVpcID.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidEgressOnlyInternetGatewayId.NotFound",
    "InvalidGatewayID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidNetworkAclID.NotFound",
    "InvalidGroup.NotFound",
    "InvalidAssociationID.NotFound",
    "InvalidLaunchTemplateId.NotFound",
    "InvalidLaunchTemplateName.NotFoundException",
    "InvalidInstanceID.NotFound",
    "TargetGroupNotFound",
    "LoadBalancerNotFound",
    "ListenerNotFound",
    "RuleNotFound",
    "NoSuchHostedZone",
    // S3: a bucket gone (HeadBucket answers a bare 404, `NotFound`).
    "NoSuchBucket",
    "NotFound",
    "DBSubnetGroupNotFoundFault",
    "DBParameterGroupNotFound",
    "DBInstanceNotFound",
    "DBInstanceNotFoundFault",
    "InvalidAllocationID.NotFound",
    "InvalidAddress.NotFound",
    "NatGatewayNotFound",
    "InvalidNatGatewayID.NotFound",
    "NoSuchEntity",
    "InvalidKeyPair.NotFound",
    // CloudWatch: DeleteAlarms, and ListTagsForResource of an alarm.
    "ResourceNotFound",
    "ResourceNotFoundException",
    "FileSystemNotFound",
    "OptionGroupNotFoundFault",
    "InvalidRoute.NotFound",
    "MountTargetNotFound",
];

/// Answers that are "not found" in other words: EC2 refusing an instance profile IAM has
/// just made (`InvalidParameterValue: ... Invalid IAM Instance Profile name`), as AWS
/// documents. Eventual consistency when the message names a young profile, like the
/// codes of [`NOT_FOUND`]; otherwise a real error.
const NOT_VISIBLE_YET: &[(&str, &str)] =
    &[("InvalidParameterValue", "Invalid IAM Instance Profile"), ("ValidationError", "Invalid IamInstanceProfile")];

fn is_not_found(code: &str) -> bool {
    matches(code, NOT_FOUND)
}

/// The class of an error. `recent` says which ids are young enough for a "not found"
/// naming them to be eventual consistency rather than a real absence.
pub(crate) fn classify(code: Option<&str>, status: Option<u16>, message: &str, recent: &Recent) -> Class {
    match code {
        Some(c) if matches(c, THROTTLING) => Class::Throttling,
        Some(c) if matches(c, TRANSIENT) => Class::Transient,
        Some(c) if matches(c, EXISTS) => Class::Exists,
        Some(c) if matches(c, IN_USE) => Class::InUse,
        Some(c) if is_not_found(c) && recent.named_in(message) => Class::EventualConsistency,
        Some(c)
            if NOT_VISIBLE_YET.iter().any(|(code, says)| c == *code && message.contains(says))
                && recent.named_in(message) =>
        {
            Class::EventualConsistency
        }
        // A 5xx, or a success whose body was not the answer (cut short, garbled).
        _ if status.is_some_and(|s| s >= 500 || (200..300).contains(&s)) => Class::Transient,
        _ => Class::Fatal,
    }
}

/// The class of an error trellis already holds.
pub(crate) fn class_of(e: &ProviderError, recent: &Recent) -> Class {
    // `util::aws_err` gives every failure a code, AWS's or one of its own for a
    // failure with no answer (`NetworkError`, `UnreadableResponse`, `RequestTimeout`).
    classify(e.code.as_deref(), None, &e.message, recent)
}

/// Ids this run created, changed or saw in a listing, with when: a "not found" naming
/// one of them within [`PROPAGATION`] is AWS not showing it yet.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    ids: Mutex<HashMap<String, Instant>>,
    /// Messages already said while waiting, so each wait is said once.
    said: Mutex<std::collections::HashSet<String>>,
}

impl Recent {
    pub fn touch(&self, id: &str) {
        if !id.is_empty() {
            self.ids.lock().expect("recent ids").insert(id.to_string(), Instant::now());
        }
    }

    /// True the first time a message is seen.
    pub fn first_time(&self, message: &str) -> bool {
        self.said.lock().expect("said").insert(message.to_string())
    }

    pub fn forget(&self, id: &str) {
        self.ids.lock().expect("recent ids").remove(id);
    }

    /// The young id the message names, if any.
    pub fn named_in(&self, message: &str) -> bool {
        let mut ids = self.ids.lock().expect("recent ids");
        ids.retain(|_, at| at.elapsed() < PROPAGATION);
        ids.keys().any(|id| {
            message.match_indices(id.as_str()).any(|(i, _)| {
                // The whole id, not the start of a longer one.
                !message[i + id.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
            })
        })
    }
}

/// What the retries did, for progress and `docs/reliability.md`: the create loop's
/// decisions and the delete waits, counted once each (the SDK's own retries of other
/// calls are not counted: it runs its classifiers more than once per attempt).
#[derive(Debug, Default)]
pub struct RetryStats {
    pub throttling: AtomicUsize,
    pub transient: AtomicUsize,
    pub eventual_consistency: AtomicUsize,
    pub in_use: AtomicUsize,
    /// Creates whose outcome was unknown and whose object was found and taken.
    pub adopted: AtomicUsize,
    /// Creates whose outcome was unknown, looked up, not found, and sent again.
    pub resent: AtomicUsize,
}

impl RetryStats {
    pub(crate) fn count(&self, class: Class) {
        let counter = match class {
            Class::Throttling => &self.throttling,
            Class::Transient => &self.transient,
            Class::EventualConsistency => &self.eventual_consistency,
            Class::InUse => &self.in_use,
            Class::Exists | Class::Fatal => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// One line for the end of a run, or none when nothing was retried.
    pub fn summary(&self) -> Option<String> {
        let get = |c: &AtomicUsize| c.load(Ordering::Relaxed);
        let parts: Vec<String> = [
            (get(&self.throttling), "creates throttled"),
            (get(&self.transient), "creates with an unknown outcome"),
            (get(&self.eventual_consistency), "creates waiting for what they refer to"),
            (get(&self.in_use), "still in use"),
            (get(&self.adopted), "creates adopted after a lost answer"),
            (get(&self.resent), "creates sent again after a lost answer"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        (!parts.is_empty()).then(|| format!("Retried: {}", parts.join(", ")))
    }
}

/// The table above, as the SDK's retry classifier: it has the last word on every
/// attempt of every call (the clients used for creates make one attempt only).
#[derive(Clone)]
pub(crate) struct Classifier {
    pub recent: Arc<Recent>,
    /// Where "waiting for … to become visible" is said.
    pub progress: Option<crate::Progress>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Classifier")
    }
}

impl ClassifyRetry for Classifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let class = if err.is_timeout_error() || err.is_response_error() || err.is_connector_error() {
            Class::Transient
        } else {
            let response = ctx.response();
            let status = response.map(|r| r.status().as_u16());
            let body = response.and_then(|r| r.body().bytes()).map(String::from_utf8_lossy).unwrap_or_default();
            let code = element(&body, "Code");
            let message = element(&body, "Message").unwrap_or_default();
            classify(code, status, message, &self.recent)
        };
        // Not counted here: the SDK runs its classifiers more than once per attempt.
        if let (Class::EventualConsistency, Some(say), Some(message)) = (class, &self.progress, self.message_of(ctx)) {
            if self.recent.first_time(&message) {
                say(&crate::Event::NotShownYet { message });
            }
        }
        match class {
            Class::Throttling => RetryAction::throttling_error(),
            Class::Transient | Class::EventualConsistency => RetryAction::transient_error(),
            _ => RetryAction::RetryForbidden,
        }
    }

    fn name(&self) -> &'static str {
        "trellis error table"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

impl Classifier {
    fn message_of(&self, ctx: &InterceptorContext) -> Option<String> {
        let body = ctx.response()?.body().bytes()?;
        element(&String::from_utf8_lossy(body), "Message").map(str::to_string)
    }
}

/// The text of the first `<name>…</name>` of an XML error document.
fn element<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find("</")? + start;
    Some(body[start..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_its_codes() {
        let recent = Recent::default();
        recent.touch("subnet-0abc");
        let c = |code: &str, msg: &str| classify(Some(code), Some(400), msg, &recent);
        assert_eq!(c("RequestLimitExceeded", ""), Class::Throttling);
        assert_eq!(c("Throttling", ""), Class::Throttling);
        assert_eq!(c("InternalError", ""), Class::Transient);
        assert_eq!(c("InvalidSubnet.Conflict", ""), Class::Exists);
        assert_eq!(c("DependencyViolation", ""), Class::InUse);
        assert_eq!(c("InvalidSubnetID.NotFound", "The ID 'subnet-0abc' does not exist"), Class::EventualConsistency);
        // Not young, or a longer id that begins the same: a real absence.
        assert_eq!(c("InvalidSubnetID.NotFound", "The ID 'subnet-0abcd' does not exist"), Class::Fatal);
        assert_eq!(c("InvalidVpcID.NotFound", "The ID 'vpc-1' does not exist"), Class::Fatal);
        assert_eq!(c("InvalidParameterValue", ""), Class::Fatal);
        // A profile IAM has just made, which EC2 does not know yet; an old one is a mistake.
        recent.touch("st-receivers");
        let refused =
            "Value (st-receivers) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name";
        assert_eq!(c("InvalidParameterValue", refused), Class::EventualConsistency);
        assert_eq!(c("InvalidParameterValue", &refused.replace("st-receivers", "other")), Class::Fatal);
        assert_eq!(c("NoSuchEntity", "The role with name st-receivers cannot be found."), Class::EventualConsistency);
        assert_eq!(classify(None, Some(503), "", &recent), Class::Transient);
        assert_eq!(classify(Some("NetworkError"), None, "connection reset", &recent), Class::Transient);
        assert_eq!(classify(None, Some(400), "", &recent), Class::Fatal);
        recent.forget("subnet-0abc");
        assert_eq!(c("InvalidSubnetID.NotFound", "The ID 'subnet-0abc' does not exist"), Class::Fatal);
    }

    #[test]
    fn reads_codes_from_both_error_formats() {
        let ec2 = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>slow down</Message></Error></Errors></Response>";
        let query = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>";
        assert_eq!(element(ec2, "Code"), Some("RequestLimitExceeded"));
        assert_eq!(element(query, "Code"), Some("Throttling"));
        assert_eq!(element(query, "Message"), Some("Rate exceeded"));
    }
}
