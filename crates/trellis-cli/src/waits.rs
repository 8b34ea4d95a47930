//! The words for what trellis-aws tells while it waits and retries
//! (`trellis_aws::Event`): one line each, shown dimmed on stderr.

use trellis_aws::{Event, RefreshStep, Until};

/// The line for `event`.
pub fn word(event: &Event) -> String {
    match event {
        Event::Waiting { subject, until, now: Some(now) } => {
            format!("{subject}: {now}; waiting until it is {until}")
        }
        Event::Waiting { subject, until: Until::State(state), now: None } => {
            format!("waiting for {subject} to be {state}")
        }
        Event::Waiting { subject, until, now: None } => format!("{subject}: waiting until it is {until}"),
        Event::NotShownYet { message } => format!("waiting for AWS to show what it just made ({message})"),
        Event::ReferenceNotVisible { address, error } => {
            format!("{address}: waiting for what it refers to to become visible ({error})")
        }
        Event::CreateUnclear { address, error, exists } => {
            let why = if *exists { "AWS says it exists" } else { "its outcome is unknown" };
            format!("{address}: create answered {error}; {why}, looking for the object by its tags")
        }
        Event::CreateFound { address, id } => format!("{address}: found {id}, made by the earlier attempt; taking it"),
        Event::CreateResent { address } => format!("{address}: not found; sending the create again"),
        Event::StillInUse { address, id, error: Some(error), users, .. } => {
            let users =
                if users.is_empty() { String::new() } else { format!("; still using it: {}", users.join(", ")) };
            format!("{address}: {id} is still in use ({error}){users}; retrying the delete")
        }
        Event::StillInUse { address, id, error: None, retry_in, .. } => {
            format!("{address}: still in use; retrying the delete of {id} in {}s", retry_in.as_secs())
        }
        Event::StoppingToResize { id, instance_type } => {
            format!("stopping instance {id} to change its type to {instance_type}")
        }
        Event::RebootingForParameters { id } => format!("db_instance {id}: rebooting to apply static parameters"),
        Event::LookingForJournalCreates { addresses } => format!(
            "the journal names creates the read did not show ({}); looking for them again",
            addresses.join(", ")
        ),
        Event::Refresh { group, refresh, step } => match step {
            RefreshStep::AlreadyRunning => {
                format!("{group}: instance refresh {refresh} is already running; waiting for it to end first")
            }
            RefreshStep::Recognised { version } => {
                format!("{group}: instance refresh {refresh} to launch template version {version} was already started; watching it")
            }
            RefreshStep::Started { version } => {
                format!("{group}: instance refresh {refresh} started, to launch template version {version}")
            }
            RefreshStep::Status { status, percentage, instances_left, reason } => {
                let pct = percentage.map(|p| format!(" {p} %")).unwrap_or_default();
                let left = instances_left
                    .map(|n| format!(" ({n} instance{} left)", if n == 1 { "" } else { "s" }))
                    .unwrap_or_default();
                let reason = reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default();
                format!("{group}: instance refresh {refresh}{pct}{left}, {status}{reason}")
            }
            RefreshStep::Stopping { why, rollback } => {
                format!("{group}: {why}; {}", if *rollback { "rolling back" } else { "cancelling" })
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn waits_name_what_and_until_when() {
        let e = Event::Waiting { subject: "subnet-1".into(), until: Until::Available, now: None };
        assert_eq!(word(&e), "subnet-1: waiting until it is available");
        let e =
            Event::Waiting { subject: "db_instance db".into(), until: Until::Available, now: Some("modifying".into()) };
        assert_eq!(word(&e), "db_instance db: modifying; waiting until it is available");
        let e = Event::Waiting { subject: "instance i-1".into(), until: Until::State("stopped".into()), now: None };
        assert_eq!(word(&e), "waiting for instance i-1 to be stopped");
        let e =
            Event::Waiting { subject: "i-1".into(), until: Until::Healthy { target_group: "web/1".into() }, now: None };
        assert_eq!(word(&e), "i-1: waiting until it is healthy in web/1");
    }

    #[test]
    fn a_delete_in_use_says_what_uses_it_once() {
        let first = Event::StillInUse {
            address: "subnet.a".into(),
            id: "subnet-1".into(),
            error: Some("DependencyViolation: in use".into()),
            users: vec!["eni-1".into()],
            retry_in: Duration::from_secs(2),
        };
        assert_eq!(
            word(&first),
            "subnet.a: subnet-1 is still in use (DependencyViolation: in use); still using it: eni-1; retrying the delete"
        );
        let again = Event::StillInUse {
            address: "subnet.a".into(),
            id: "subnet-1".into(),
            error: None,
            users: vec![],
            retry_in: Duration::from_secs(4),
        };
        assert_eq!(word(&again), "subnet.a: still in use; retrying the delete of subnet-1 in 4s");
    }

    #[test]
    fn a_refresh_status_counts_what_is_left() {
        let step = RefreshStep::Status {
            status: "InProgress".into(),
            percentage: Some(50),
            instances_left: Some(1),
            reason: Some("waiting for warmup".into()),
        };
        let e = Event::Refresh { group: "autoscaling_group.web".into(), refresh: "r-1".into(), step };
        assert_eq!(
            word(&e),
            "autoscaling_group.web: instance refresh r-1 50 % (1 instance left), InProgress: waiting for warmup"
        );
        let step = RefreshStep::Stopping { why: "new instances are unhealthy".into(), rollback: false };
        let e = Event::Refresh { group: "g".into(), refresh: "r-1".into(), step };
        assert_eq!(word(&e), "g: new instances are unhealthy; cancelling");
    }
}
