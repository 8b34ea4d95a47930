//! End to end against the moto emulator: a secret given as `${env.NAME}` in a sensitive
//! attribute reaches AWS, and nothing trellis writes or prints contains it: not the
//! state, not a saved plan, not the JSON plan, not the output of any command.

mod support;

use support::{aws, Run, Stack};

const SPEC: &str = r##"stack: secrets
resources:
  vpc.main:
    cidr_block: 10.9.0.0/16
  launch_template.app:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    user_data: |
      #!/bin/sh
      export API_TOKEN=${env.TRELLIS_TEST_TOKEN}
    sensitive: [user_data]
outputs:
  template: ${launch_template.app}
"##;

fn assert_clean(secret: &str, what: &str, text: &str) {
    assert!(!text.contains(secret), "{what} holds the secret:\n{text}");
}

fn all_of(r: &Run) -> String {
    format!("{}\n{}", r.stdout, r.stderr)
}

#[tokio::test]
async fn a_secret_reaches_aws_and_nothing_trellis_writes() {
    let stack = Stack::new("secrets", SPEC);
    let secret = format!("tok-{}-{}", stack.name, "x9Q7");
    let env = [("TRELLIS_TEST_TOKEN", secret.as_str())];
    let plan_file = stack.dir.path().join("reviewed.plan");
    let plan_path = plan_file.to_str().unwrap();

    // Without the variable, plan says which one is missing and where it is read.
    let missing = stack.run(&["plan", "{spec}"]).expect_code(1);
    assert!(
        missing.stderr.contains("TRELLIS_TEST_TOKEN (read by the sensitive `launch_template.app.user_data`)"),
        "{}",
        missing.stderr
    );

    let mut printed = String::new();
    let planned = stack.run_env(&["plan", "{spec}", "--out", plan_path], &env).expect_code(0);
    printed += &all_of(&planned);
    assert!(planned.stdout.contains("user_data            = (sensitive)"), "{}", planned.stdout);
    let json = stack.run_env(&["plan", "{spec}", "--json"], &env).expect_code(0);
    printed += &all_of(&json);
    let j: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let lt = j["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "launch_template.app").unwrap();
    assert_eq!(lt["change"]["after_sensitive"], serde_json::json!(["user_data"]));
    let shown = stack.run(&["show", plan_path, "--json"]).expect_code(0);
    printed += &all_of(&shown);
    let applied = stack.run_env(&["apply", plan_path], &env).expect_code(0);
    printed += &all_of(&applied);

    // It is in AWS...
    let aws = aws().await;
    let id = stack.id("launch_template.app");
    let v =
        aws.ec2().describe_launch_template_versions().launch_template_id(&id).versions("$Latest").send().await.unwrap();
    let data = v.launch_template_versions()[0].launch_template_data().unwrap().user_data().unwrap().to_string();
    use base64::Engine;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(data).unwrap()).unwrap();
    assert!(decoded.contains(&format!("API_TOKEN={secret}")), "{decoded}");

    // ...and nowhere else.
    let again = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);
    printed += &all_of(&again);
    printed +=
        &all_of(&stack.run(&["state", "show", "launch_template.app", "--state", stack.state_path().to_str().unwrap()]));
    assert_clean(&secret, "the state", &std::fs::read_to_string(stack.state_path()).unwrap());
    assert_clean(&secret, "the saved plan", &std::fs::read_to_string(&plan_file).unwrap());
    assert_clean(&secret, "the output", &printed);
    // Every file beside the state too: its backup, its journal, its lock, a rescue file.
    let mut beside = 0;
    for entry in std::fs::read_dir(stack.state_path().parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        assert_clean(&secret, &path.display().to_string(), &String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        beside += 1;
    }
    let backup = stack.state_path().with_extension("json.backup");
    let journal = trellis_state::LocalStore::new(stack.state_path()).journal_path();
    assert!(
        backup.exists() && journal.exists(),
        "the backup and the journal were written, and read above ({beside} files)"
    );

    // A new secret is a change, shown as such, and a new template version.
    let rotated = format!("{secret}-rotated");
    let env2 = [("TRELLIS_TEST_TOKEN", rotated.as_str())];
    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(2);
    assert!(plan.stdout.contains("(sensitive, changed)"), "{}", plan.stdout);
    assert!(plan.stdout.contains("new version 2"), "{}", plan.stdout);
    let applied = stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    assert_clean(&rotated, "the output", &(all_of(&plan) + &all_of(&applied)));
    assert_clean(&rotated, "the state", &std::fs::read_to_string(stack.state_path()).unwrap());
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(0);
    stack.run_env(&["destroy", "{spec}", "--auto-approve"], &env2).expect_code(0);
}

#[tokio::test]
async fn a_saved_plan_that_changes_a_secret_user_data_applies() {
    // The saved-plan check sees the live template as the plan did: its user data as the
    // state's digest, not as the plain text AWS returns.
    let stack = Stack::new("secrets-saved", SPEC);
    let secret = format!("tok-{}-first", stack.name);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &[("TRELLIS_TEST_TOKEN", secret.as_str())]).expect_code(0);
    let rotated = format!("tok-{}-second", stack.name);
    let env = [("TRELLIS_TEST_TOKEN", rotated.as_str())];
    let plan_file = stack.dir.path().join("rotate.plan");
    let plan_path = plan_file.to_str().unwrap();
    let planned = stack.run_env(&["plan", "{spec}", "--out", plan_path], &env).expect_code(0);
    assert!(planned.stdout.contains("(sensitive, changed)"), "{}", planned.stdout);
    let applied = stack.run_env(&["apply", plan_path, "--auto-approve"], &env);
    assert_eq!(applied.code, 0, "the saved plan must apply\n{}\n{}", applied.stdout, applied.stderr);
    assert_clean(&rotated, "the output", &(all_of(&planned) + &all_of(&applied)));
    assert_clean(&rotated, "the saved plan", &std::fs::read_to_string(&plan_file).unwrap());

    let id = stack.id("launch_template.app");
    let v = aws()
        .await
        .ec2()
        .describe_launch_template_versions()
        .launch_template_id(&id)
        .versions("$Latest")
        .send()
        .await
        .unwrap();
    let latest = &v.launch_template_versions()[0];
    assert_eq!(latest.version_number(), Some(2), "the saved plan made the template's next version");
    use base64::Engine;
    let data = latest.launch_template_data().unwrap().user_data().unwrap();
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(data).unwrap()).unwrap();
    assert!(decoded.contains(&format!("API_TOKEN={rotated}")), "{decoded}");
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);
    stack.run_env(&["destroy", "{spec}", "--auto-approve"], &env).expect_code(0);
}
