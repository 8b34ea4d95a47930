//! The review workflow end to end against moto: a saved plan is applied exactly, a
//! stale one is refused with the reason, and --target plans a closure.

mod support;

use support::{ec2, ingress_ports, open_port, tagged, Stack, NETWORK};

#[tokio::test]
async fn a_saved_plan_is_applied_exactly_and_refused_once_stale() {
    let stack = Stack::new("saved", NETWORK);
    stack.apply();
    let lb = stack.id("security_group.lb");
    let changed = NETWORK.replacen("        port: 80\n", "        port: 8081\n", 1);
    stack.write_spec(&changed);

    let plan_file = stack.dir.path().join("review.plan");
    let p = stack.run(&["plan", "{spec}", "--out", plan_file.to_str().unwrap(), "--detailed-exitcode"]).expect_code(2);
    assert!(p.stderr.contains("carries out exactly this plan"), "{}", p.stderr);
    let shown = stack.run(&["show", plan_file.to_str().unwrap()]).expect_code(0);
    assert!(shown.stdout.contains("# security_group.lb will be updated in place"), "{}", shown.stdout);
    assert!(shown.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{}", shown.stdout);
    let json = stack.run(&["show", plan_file.to_str().unwrap(), "--json"]).expect_code(0);
    assert!(json.stdout.contains("\"address\": \"security_group.lb\""), "{}", json.stdout);

    // The spec edited after review: refused.
    stack.write_spec(&changed.replacen("description: HTTP from anywhere", "description: HTTP", 1));
    let refused = stack.run(&["apply", plan_file.to_str().unwrap()]).expect_code(1);
    assert!(refused.stderr.contains("is stale and was not applied"), "{}", refused.stderr);
    assert!(refused.stderr.contains("changed since the plan was made"), "{}", refused.stderr);
    let client = ec2().await;
    assert_eq!(ingress_ports(&client, &lb).await, [80], "a refused plan changes nothing");

    // Back to the reviewed spec: applied exactly, without a question.
    stack.write_spec(&changed);
    let applied = stack.run(&["apply", plan_file.to_str().unwrap()]).expect_code(0);
    assert!(
        applied.stdout.contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    assert_eq!(ingress_ports(&client, &lb).await, [8081]);

    // Applied once, the plan is stale: the state moved on.
    let again = stack.run(&["apply", plan_file.to_str().unwrap()]).expect_code(1);
    assert!(again.stderr.contains("the state moved on since the plan was made"), "{}", again.stderr);

    // A new plan, then a change behind trellis's back to an object it touches: refused.
    stack.write_spec(&changed.replacen("        port: 8081\n", "        port: 8082\n", 1));
    stack.run(&["plan", "{spec}", "--out", plan_file.to_str().unwrap()]).expect_code(0);
    open_port(&client, &lb, 22, "10.9.0.0/16").await;
    let drifted = stack.run(&["apply", plan_file.to_str().unwrap()]).expect_code(1);
    assert!(
        drifted.stderr.contains("security_group.lb changed outside trellis since the plan was made (`ingress`)"),
        "{}",
        drifted.stderr
    );

    stack.apply();
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn target_plans_and_applies_only_the_closure() {
    let stack = Stack::new("target", NETWORK);
    let p = stack.run(&["plan", "{spec}", "--target", "subnet.public_a"]).expect_code(0);
    assert!(p.stdout.starts_with("Warning: this plan is partial (--target subnet.public_a)"), "{}", p.stdout);
    assert!(p.stdout.contains("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy."), "{}", p.stdout);
    let typo = stack.run(&["plan", "{spec}", "--target", "subnet.pubic_a"]).expect_code(1);
    assert!(typo.stderr.contains("did you mean `subnet.public_a`?"), "{}", typo.stderr);

    stack.run(&["apply", "{spec}", "--target", "subnet.public_a", "--auto-approve"]).expect_code(0);
    let client = ec2().await;
    let live: Vec<String> = tagged(&client, &stack.name).await.into_values().collect();
    assert_eq!(live.len(), 2, "{live:?}");
    let md = stack.run(&["plan", "{spec}", "--format", "markdown"]).expect_code(0);
    assert!(md.stdout.starts_with(&format!("### trellis plan for `{}`", stack.name)), "{}", md.stdout);
    assert!(md.stdout.contains("**Plan: 12 to add, 0 to change, 0 to replace, 0 to destroy.**"), "{}", md.stdout);
    stack.apply();
    stack.destroy_and_check_clean();
}
