//! End to end against the moto emulator: a CloudWatch Logs log group. It applies with
//! its retention and tags, re-plans empty, changes its retention in place (and drops
//! it: events kept forever), and destroys to nothing.

mod support;

use support::{aws, Stack};

const SPEC: &str = "stack: lg\nresources:\n  log_group.app:\n    retention_in_days: 30\n    tags: { Team: platform }\n";

async fn group(name: &str) -> Option<trellis_aws::sdk::logs::types::LogGroup> {
    let out = aws().await.logs().describe_log_groups().log_group_name_prefix(name).send().await.unwrap();
    out.log_groups().iter().find(|g| g.log_group_name() == Some(name)).cloned()
}

#[tokio::test]
async fn a_log_group_keeps_its_retention_and_changes_it_in_place() {
    let stack = Stack::new("log-groups", SPEC);
    stack.apply();
    let name = stack.id("log_group.app");
    assert_eq!(name, format!("{}-app", stack.name));
    let g = group(&name).await.unwrap();
    assert_eq!(g.retention_in_days(), Some(30));
    let arn = g.arn().unwrap().trim_end_matches(":*").to_string();
    let tags = aws().await.logs().list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    let tags = tags.tags().cloned().unwrap_or_default();
    assert_eq!(tags.get("Team").map(String::as_str), Some("platform"));
    assert_eq!(tags.get("trellis:address").map(String::as_str), Some("log_group.app"));
    assert_eq!(stack.plan().code, 0, "re-plans empty");

    stack.write_spec(&SPEC.replace("30", "90"));
    let plan = stack.plan();
    assert!(plan.stdout.contains("log_group.app will be updated in place"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(group(&name).await.unwrap().retention_in_days(), Some(90));
    stack.write_spec(&SPEC.replace("    retention_in_days: 30\n", ""));
    stack.apply();
    assert_eq!(group(&name).await.unwrap().retention_in_days(), None, "kept forever");
    assert_eq!(stack.plan().code, 0);

    stack.destroy_and_check_clean();
    assert!(group(&name).await.is_none());
}
