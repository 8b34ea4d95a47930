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

/// Edits a saved plan file as JSON.
fn edit_plan(path: &std::path::Path, edit: impl FnOnce(&mut serde_json::Value)) -> std::path::PathBuf {
    let mut doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut doc);
    let out = path.with_extension("edited");
    std::fs::write(&out, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    out
}

fn change_of<'a>(doc: &'a mut serde_json::Value, address: &str) -> &'a mut serde_json::Value {
    doc["plan"]["changes"].as_array_mut().unwrap().iter_mut().find(|c| c["address"] == address).unwrap()
}

#[tokio::test]
async fn an_edited_plan_file_is_refused_naming_each_difference() {
    let stack = Stack::new("edited", NETWORK);
    stack.apply();
    let changed = NETWORK.replacen("        port: 80\n", "        port: 8081\n", 1);
    stack.write_spec(&changed);
    let plan_file = stack.dir.path().join("review.plan");
    let made = stack.run(&["plan", "{spec}", "--out", plan_file.to_str().unwrap()]).expect_code(0);
    let digest = made.stderr.split("(digest ").nth(1).and_then(|s| s.split(')').next()).unwrap().to_string();
    assert_eq!(digest.len(), 64, "{}", made.stderr);
    let shown = stack.run(&["show", plan_file.to_str().unwrap()]).expect_code(0);
    assert!(shown.stderr.contains(&digest), "{}", shown.stderr);
    let before = tagged(&ec2().await, &stack.name).await;

    // Each single-field edit the hostile tests made: refused, naming the difference,
    // and nothing changes in the cloud.
    let subnet = "subnet.public_a";
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, String)> = vec![
        (
            "a no-op made a delete",
            Box::new(move |d| change_of(d, subnet)["action"] = "delete".into()),
            format!("{subnet}: the file says delete, the plan made now says no-op"),
        ),
        (
            "a gateway deleted",
            Box::new(|d| change_of(d, "internet_gateway.main")["action"] = "delete".into()),
            "internet_gateway.main: the file says delete".into(),
        ),
        (
            "a VPC forgotten",
            Box::new(|d| change_of(d, "vpc.main")["action"] = "forget".into()),
            "vpc.main: the file says forget".into(),
        ),
        (
            "a second security group",
            Box::new(|d| change_of(d, "security_group.app")["action"] = "create".into()),
            "security_group.app: the file says create".into(),
        ),
        (
            "an attribute changed",
            Box::new(|d| change_of(d, "security_group.lb")["after"]["description"] = "open".into()),
            "security_group.lb: its `after.description` differ".into(),
        ),
        (
            "a change dropped",
            Box::new(|d| d["plan"]["changes"].as_array_mut().unwrap().retain(|c| c["address"] != "security_group.lb")),
            "security_group.lb: the file leaves out the update".into(),
        ),
    ];
    for (what, edit, said) in cases {
        let edited = edit_plan(&plan_file, edit);
        let refused = stack.run(&["apply", edited.to_str().unwrap()]).expect_code(1);
        assert!(
            refused.stderr.contains("is not the plan its spec, state and live objects give now"),
            "{what}: {}",
            refused.stderr
        );
        assert!(refused.stderr.contains(&said), "{what}: no `{said}` in {}", refused.stderr);
        // The edited file has another digest: refused before anything is read.
        let wrong = stack.run(&["apply", edited.to_str().unwrap(), "--digest", &digest]).expect_code(1);
        assert!(
            wrong.stderr.contains("not the") && wrong.stderr.contains("that was approved"),
            "{what}: {}",
            wrong.stderr
        );
    }
    assert_eq!(tagged(&ec2().await, &stack.name).await, before, "a refused plan changed the cloud");

    // The untouched file, with its digest, applies.
    let applied = stack.run(&["apply", plan_file.to_str().unwrap(), "--digest", &digest]).expect_code(0);
    assert!(
        applied.stdout.contains("Apply complete! Resources: 0 added, 1 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn state_list_takes_a_spec_and_a_state_file_together() {
    let stack = Stack::new("list", NETWORK);
    stack.apply();
    let state = stack.state_path();
    let listed = stack.run(&["state", "list", "{spec}", "--state", state.to_str().unwrap()]).expect_code(0);
    assert!(listed.stdout.contains("vpc.main"), "{}", listed.stdout);
    let shown = stack.run(&["state", "show", "--state", state.to_str().unwrap(), "vpc.main"]).expect_code(0);
    assert!(shown.stdout.contains("# vpc.main"), "{}", shown.stdout);
    stack.destroy_and_check_clean();
}
