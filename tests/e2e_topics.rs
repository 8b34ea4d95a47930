//! End to end against the moto emulator: an SNS topic an alarm notifies by reference.
//! It applies with its display name and tags, the alarm's action is its ARN, it
//! re-plans empty, its display name changes in place, and it destroys to nothing.

mod support;

use support::{aws, Stack};

const SPEC: &str = r#"stack: tp
resources:
  sns_topic.alerts:
    display_name: Ops alerts
    tags: { Team: platform }
  metric_alarm.errors:
    metric_name: HTTPCode_Target_5XX_Count
    namespace: AWS/ApplicationELB
    statistic: Sum
    period: 60
    evaluation_periods: 5
    threshold: 10
    comparison_operator: GreaterThanThreshold
    alarm_actions: ["${sns_topic.alerts}"]
"#;

#[tokio::test]
async fn an_alarm_notifies_the_stack_s_topic() {
    let stack = Stack::new("topics", SPEC);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 2 added"), "{}\n{}", applied.stdout, applied.stderr);
    let aws = aws().await;
    let arn = stack.id("sns_topic.alerts");
    assert!(arn.ends_with(&format!(":{}-alerts", stack.name)), "{arn}");
    let attrs = aws.sns().get_topic_attributes().topic_arn(&arn).send().await.unwrap();
    assert_eq!(attrs.attributes().unwrap().get("DisplayName").map(String::as_str), Some("Ops alerts"));
    let tags = aws.sns().list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert!(tags.tags().iter().any(|t| t.key() == "Team" && t.value() == "platform"));
    let alarm = stack.id("metric_alarm.errors");
    let alarms = aws.cloudwatch().describe_alarms().alarm_names(&alarm).send().await.unwrap();
    assert_eq!(alarms.metric_alarms()[0].alarm_actions(), std::slice::from_ref(&arn));
    assert_eq!(stack.plan().code, 0, "re-plans empty");

    stack.write_spec(&SPEC.replace("Ops alerts", "Pager"));
    let plan = stack.plan();
    assert!(plan.stdout.contains("sns_topic.alerts will be updated in place"), "{}", plan.stdout);
    stack.apply();
    let attrs = aws.sns().get_topic_attributes().topic_arn(&arn).send().await.unwrap();
    assert_eq!(attrs.attributes().unwrap().get("DisplayName").map(String::as_str), Some("Pager"));
    assert_eq!(stack.plan().code, 0);

    stack.destroy_and_check_clean();
    let left = aws.sns().list_topics().send().await.unwrap();
    assert!(left.topics().iter().all(|t| t.topic_arn() != Some(arn.as_str())), "the topic is gone");
}

const SUBSCRIBED: &str = r#"stack: sb
resources:
  sns_topic.events: {}
  sns_subscription.queue:
    topic_arn: ${sns_topic.events}
    protocol: sqs
    notification_endpoint: arn:aws:sqs:us-east-1:123456789012:events
    raw_message_delivery: true
    filter_policy: { event: [launch] }
  sns_subscription.oncall:
    topic_arn: ${sns_topic.events}
    protocol: email
    notification_endpoint: oncall@example.com
"#;

#[tokio::test]
async fn a_subscription_awaiting_confirmation_is_said_as_such_not_as_drift() {
    let stack = Stack::new("subscriptions", SUBSCRIBED);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 3 added"), "{}\n{}", applied.stdout, applied.stderr);
    let sns = aws().await.sns().clone();
    let topic = stack.id("sns_topic.events");
    let queue = stack.id("sns_subscription.queue");
    let attrs = sns.get_subscription_attributes().subscription_arn(&queue).send().await.unwrap();
    let attrs = attrs.attributes().unwrap();
    assert_eq!(attrs.get("TopicArn"), Some(&topic));
    assert_eq!(attrs.get("RawMessageDelivery").map(String::as_str), Some("true"));
    assert!(attrs.get("FilterPolicy").is_some_and(|p| p.contains("launch")), "{attrs:?}");

    // The email address has not confirmed: a finding, not a change.
    let oncall = stack.id("sns_subscription.oncall");
    assert!(oncall.starts_with(&format!("{topic}:")), "the pending one has its ARN: {oncall}");
    let plan = stack.plan();
    assert_eq!(plan.code, 0, "re-plans empty:\n{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("sns_subscription.oncall: the subscription awaits its endpoint's confirmation"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("drift"), "{}", plan.stdout);
    sns.confirm_subscription().topic_arn(&topic).token(&oncall).send().await.unwrap();
    let plan = stack.plan();
    assert!(!plan.stdout.contains("awaits its endpoint's confirmation"), "{}", plan.stdout);

    // Delivery settings change in place; the endpoint replaces.
    stack.write_spec(&SUBSCRIBED.replace("event: [launch]", "event: [launch, terminate]"));
    let plan = stack.plan();
    assert!(plan.stdout.contains("sns_subscription.queue will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to replace"), "{}", plan.stdout);
    stack.apply();
    let attrs = sns.get_subscription_attributes().subscription_arn(&queue).send().await.unwrap();
    assert!(attrs.attributes().unwrap().get("FilterPolicy").is_some_and(|p| p.contains("terminate")));
    stack.write_spec(&SUBSCRIBED.replace("oncall@example.com", "pager@example.com"));
    let plan = stack.plan();
    assert!(plan.stdout.contains("sns_subscription.oncall must be replaced"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(stack.plan().code, 0);

    stack.destroy_and_check_clean();
    let left = sns.list_subscriptions().send().await.unwrap();
    assert!(left.subscriptions().iter().all(|s| s.topic_arn() != Some(topic.as_str())), "no subscription is left");
}
