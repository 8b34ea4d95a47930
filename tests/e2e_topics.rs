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
