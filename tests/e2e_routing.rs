//! End to end against the moto emulator: routing by path and host. The example stack
//! with three rules applies and re-plans empty; AWS then holds each rule's priority,
//! conditions and weighted action; two rules swap priorities in one apply through one
//! `SetRulePriorities`; the balancer's access logs go on and off; a removed rule's
//! plan says where its requests go; and the stack destroys to nothing. Calls are
//! counted by a fault layer of the test's own that injects nothing.

mod support;

use std::collections::BTreeMap;

use support::{aws, fault_stats, FaultLayer, Stack};

const WEB_PATHS: &str = include_str!("../specs/examples/web-paths.yaml");

/// The listener's rules but its default one, as (priority, first condition's values,
/// action's target groups with weights).
async fn rules(listener: &str) -> BTreeMap<i64, (Vec<String>, Vec<(String, i32)>)> {
    let aws = aws().await;
    let out = aws.elb().describe_rules().listener_arn(listener).send().await.unwrap();
    let mut by_priority = BTreeMap::new();
    for r in out.rules().iter().filter(|r| r.is_default() != Some(true)) {
        let c = &r.conditions()[0];
        let values = match (c.path_pattern_config(), c.host_header_config()) {
            (Some(p), _) => p.values().to_vec(),
            (_, Some(h)) => h.values().to_vec(),
            _ => vec![],
        };
        let a = &r.actions()[0];
        let groups = match a.forward_config() {
            Some(f) if f.target_groups().len() > 1 => f
                .target_groups()
                .iter()
                .map(|t| (t.target_group_arn().unwrap().to_string(), t.weight().unwrap_or(1)))
                .collect(),
            _ => vec![(a.target_group_arn().unwrap().to_string(), 1)],
        };
        by_priority.insert(r.priority().unwrap().parse().unwrap(), (values, groups));
    }
    by_priority
}

fn calls(layer: &FaultLayer, action: &str) -> i64 {
    fault_stats(&layer.url)["calls"][action].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn path_rules_apply_swap_in_one_call_and_destroy() {
    let layer = FaultLayer::start(&["--profile", "none"]);
    let mut stack = Stack::new("web-paths", WEB_PATHS);
    stack.endpoint = layer.url.clone();
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 14 added"), "{}", applied.stdout);
    let listener = stack.id("listener.http");
    let (app1, app2) = (stack.id("target_group.app1"), stack.id("target_group.app2"));
    let held = rules(&listener).await;
    assert_eq!(held.keys().copied().collect::<Vec<_>>(), vec![10, 20, 30]);
    assert_eq!(held[&10], (vec!["/app1/*".to_string()], vec![(app1.clone(), 1)]));
    assert_eq!(held[&20], (vec!["/app2/*".to_string()], vec![(app2.clone(), 1)]));
    assert_eq!(held[&30], (vec!["api.example.com".to_string()], vec![(app1.clone(), 90), (app2.clone(), 10)]));

    // Re-planned empty, the three rules read in one DescribeRules.
    let before = calls(&layer, "DescribeRules");
    let again = stack.plan().expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert_eq!(calls(&layer, "DescribeRules") - before, 1, "one read for the listener's rules");

    // The two path rules swap places: two updates in place, one call.
    let swapped = WEB_PATHS
        .replacen("priority: 10", "priority: 1x", 1)
        .replacen("priority: 20", "priority: 10", 1)
        .replacen("1x", "20", 1);
    stack.write_spec(&swapped);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("moved together with listener_rule.app2 in one `set-rule-priorities` call"),
        "{}",
        plan.stdout
    );
    let before = calls(&layer, "SetRulePriorities");
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 0 added, 2 changed"), "{}", applied.stdout);
    assert_eq!(calls(&layer, "SetRulePriorities") - before, 1, "one call moved both rules");
    let held = rules(&listener).await;
    assert_eq!(held[&10].0, vec!["/app2/*".to_string()]);
    assert_eq!(held[&20].0, vec!["/app1/*".to_string()]);
    assert!(stack.plan().expect_code(0).stdout.contains("No changes."));

    // Access logs on, then off again: the balancer's `access_logs.s3.*` attributes.
    let logged = swapped.replacen(
        "    drop_invalid_header_fields: true\n",
        "    drop_invalid_header_fields: true\n    access_logs: { bucket: web-paths-logs, prefix: lb }\n",
        1,
    );
    stack.write_spec(&logged);
    stack.apply();
    let lb = stack.id("load_balancer.web");
    let aws = aws().await;
    let logs = || async {
        let out = aws.elb().describe_load_balancer_attributes().load_balancer_arn(&lb).send().await.unwrap();
        let get = |k: &str| {
            out.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value()).unwrap_or("").to_string()
        };
        (get("access_logs.s3.enabled"), get("access_logs.s3.bucket"), get("access_logs.s3.prefix"))
    };
    assert_eq!(logs().await, ("true".into(), "web-paths-logs".into(), "lb".into()));
    assert!(stack.plan().expect_code(0).stdout.contains("No changes."));
    stack.write_spec(&swapped);
    stack.apply();
    assert_eq!(logs().await.0, "false", "logs stop when `access_logs` is left out");
    assert!(stack.plan().expect_code(0).stdout.contains("No changes."));

    // The API rule goes: the plan says where its requests land.
    let (without_api, _) = swapped.split_once("  listener_rule.api:").unwrap();
    stack.write_spec(&format!("{without_api}outputs:\n  url: http://${{load_balancer.web.dns_name}}/\n"));
    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("requests for host-header api.example.com and http-request-method GET or POST go to the listener's default action"),
        "{}",
        plan.stdout
    );
    stack.apply();
    assert_eq!(rules(&listener).await.keys().copied().collect::<Vec<_>>(), vec![10, 20]);

    stack.destroy_and_check_clean();
    let gone = aws.elb().describe_rules().listener_arn(&listener).send().await;
    assert!(gone.is_err(), "the listener and its rules are gone");
}
