//! The CLI contract that needs no cloud: validation messages and exit codes, the DOT
//! graph, and the state lock. Rendered output is pinned with snapshots.

use std::process::Command;
use trellis_state::StateStore;

fn trellis(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        // No AWS call may happen in these tests: an unroutable endpoint proves it.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/examples")
}

#[test]
fn validate_accepts_the_example() {
    let (code, out, _) = trellis(&examples(), &["validate", "network.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(out, "network.yaml is valid: stack `network`, 14 resources.\n");
}

#[test]
fn validate_reports_every_error_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "stack: demo\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n  subnet.a:\n    vpc_id: ${vpc.mian}\n    cidr_block: 10.0.1.0/33\n",
    )
    .unwrap();
    let (code, out, err) = trellis(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert!(err.contains("bad.yaml:6:13"), "{err}");
    assert!(err.contains("bad.yaml:7:17"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn var_overrides_are_checked() {
    let (code, _, err) = trellis(&examples(), &["validate", "network.yaml", "--var", "vpc_cdir=10.1.0.0/16"]);
    assert_eq!(code, 1);
    assert!(err.contains("variable `vpc_cdir` is given a value (by --var"), "{err}");
    assert!(err.contains("the spec declares no variable `vpc_cdir`"), "{err}");
    assert!(err.contains("did you mean `vpc_cidr`?"), "{err}");
}

#[test]
fn var_files_are_read_beside_the_spec_and_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(examples().join("network.yaml"), dir.path().join("network.yaml")).unwrap();
    std::fs::write(dir.path().join("net.auto.yaml"), "vpc_cidr: not-a-cidr\n").unwrap();
    let (code, _, err) = trellis(dir.path(), &["validate", "network.yaml"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`not-a-cidr` is not an IPv4 CIDR block"), "the auto file is read: {err}");
    // A var file given on the command line wins over the auto file, and `--var` over both.
    std::fs::write(dir.path().join("prod.yaml"), "vpc_cidr: 10.0.0.0/16\n").unwrap();
    let (code, out, err) = trellis(dir.path(), &["validate", "network.yaml", "--var-file", "prod.yaml"]);
    assert_eq!((code, out.as_str()), (0, "network.yaml is valid: stack `network`, 14 resources.\n"), "{err}");
    let (code, _, err) =
        trellis(dir.path(), &["validate", "network.yaml", "--var-file", "prod.yaml", "--var", "vpc_cidr=10.0.0.0/33"]);
    assert_eq!(code, 1);
    assert!(err.contains("10.0.0.0/33"), "{err}");
    let (code, _, err) = trellis(dir.path(), &["validate", "network.yaml", "--var-file", "missing.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("missing.yaml"), "{err}");
}

#[test]
fn graph_prints_dot() {
    let (code, out, _) = trellis(&examples(), &["graph", "network.yaml"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn a_locked_state_fails_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let store = trellis_state::LocalStore::new(dir.path().join("state/network.json"));
    let lock = store.lock("apply").unwrap();
    let started = std::time::Instant::now();
    let (code, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("is locked by `apply`") && err.contains(&format!("process {}", std::process::id())), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(lock);
}

#[test]
fn lock_timeout_waits_for_the_holder_before_failing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let store = trellis_state::LocalStore::new(dir.path().join("state/network.json"));
    let lock = store.lock("apply").unwrap();
    let started = std::time::Instant::now();
    let (code, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap(), "--lock-timeout", "1500ms"]);
    assert_eq!(code, 1);
    assert!(err.contains("is locked by `apply`") && err.contains(&format!("process {}", std::process::id())), "{err}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500), "it waited first");
    drop(lock);
    let (_, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap(), "--lock-timeout", "soon"]);
    assert!(err.contains("--lock-timeout"), "a bad duration is a usage error: {err}");
}

#[test]
fn missing_files_and_states_are_plain_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = trellis(dir.path(), &["validate", "nope.yaml"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: cannot read nope.yaml:"), "{err}");
    let (code, _, err) = trellis(dir.path(), &["state", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("give the spec first"), "{err}");
}

#[test]
fn a_damaged_state_file_says_how_to_restore_its_backup() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let mut state = trellis_state::State::new("network");
    let store = stored(dir.path(), &mut state);
    stored(dir.path(), &mut state);
    std::fs::write(store.path(), "{\"format_version\": 1, \"resources\": [").unwrap();
    let (code, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("state/network.json is not a trellis state file any more"), "{err}");
    assert!(err.contains("`cp state/network.json.backup state/network.json`"), "{err}");
    assert!(!err.contains("dispatch failure"), "the state is read before any AWS call: {err}");
}

#[test]
fn the_state_commands_take_the_spec_first_like_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let mut state = trellis_state::State::new("network");
    state.outputs.insert("vpc_id".into(), trellis_core::Value::Str("vpc-1".into()));
    state.upsert(trellis_state::ResourceState {
        address: "vpc.main".parse().unwrap(),
        id: "vpc-1".into(),
        attributes: [("cidr_block".to_string(), trellis_core::Value::Str("10.0.0.0/16".into()))].into_iter().collect(),
        dependencies: vec![],
        sensitive: vec![],
    });
    stored(dir.path(), &mut state);
    let spec = spec.to_str().unwrap();
    for args in [vec!["output", spec, "vpc_id"], vec!["output", "vpc_id", "--spec", spec]] {
        let (code, out, err) = trellis(dir.path(), &args);
        assert_eq!((code, out.as_str()), (0, "vpc-1\n"), "{args:?}: {err}");
    }
    let (code, out, _) = trellis(dir.path(), &["output", "vpc_id", "--state", "state/network.json"]);
    assert_eq!((code, out.as_str()), (0, "vpc-1\n"));
    for args in [vec!["state", "list", spec], vec!["state", "list", "--spec", spec]] {
        let (code, out, err) = trellis(dir.path(), &args);
        assert_eq!((code, out.as_str()), (0, "vpc.main  vpc-1\n"), "{args:?}: {err}");
    }
    let (code, out, err) = trellis(dir.path(), &["state", "show", spec, "vpc.main"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# vpc.main (vpc-1)\ncidr_block = "), "{out}");
    let (code, _, err) = trellis(dir.path(), &["state", "show", spec]);
    assert_eq!(code, 1);
    assert!(err.contains("`trellis state show SPEC ADDRESS`"), "{err}");
    let (code, _, err) = trellis(dir.path(), &["output", spec, "vpc_id", "extra"]);
    assert_ne!(code, 0, "{err}");
}

#[test]
fn every_command_that_reads_a_spec_takes_its_variables() {
    // A spec with a variable that has no default: the state commands and `output` read
    // it with `--var` and `--var-file` as `plan` does, and say how to give it otherwise.
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("needs.yaml");
    std::fs::write(
        &spec,
        "stack: network\nvars:\n  cidr: { type: string }\nresources:\n  vpc.main:\n    cidr_block: ${var.cidr}\noutputs:\n  vpc_id: ${vpc.main}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("given.yaml"), "cidr: 10.0.0.0/16\n").unwrap();
    let mut state = trellis_state::State::new("network");
    state.outputs.insert("vpc_id".into(), trellis_core::Value::Str("vpc-1".into()));
    state.upsert(trellis_state::ResourceState {
        address: "vpc.main".parse().unwrap(),
        id: "vpc-1".into(),
        attributes: Default::default(),
        dependencies: vec![],
        sensitive: vec![],
    });
    stored(dir.path(), &mut state);
    let spec = spec.to_str().unwrap();
    for given in [["--var", "cidr=10.0.0.0/16"], ["--var-file", "given.yaml"]] {
        let (code, out, err) = trellis(dir.path(), &[&["output", spec, "vpc_id"][..], &given[..]].concat());
        assert_eq!((code, out.as_str()), (0, "vpc-1\n"), "{given:?}: {err}");
        let (code, out, err) = trellis(dir.path(), &[&["state", "list", spec][..], &given[..]].concat());
        assert_eq!((code, out.as_str()), (0, "vpc.main  vpc-1\n"), "{given:?}: {err}");
        let (code, _, err) = trellis(dir.path(), &[&["state", "show", spec, "vpc.main"][..], &given[..]].concat());
        assert_eq!(code, 0, "{given:?}: {err}");
    }
    let (code, _, err) = trellis(dir.path(), &["state", "list", spec]);
    assert_eq!(code, 1);
    assert!(err.contains("give it with `--var cidr=...`"), "{err}");
}

#[test]
fn names_past_a_format_width_are_listed_not_a_panic() {
    // Each of these panicked ("Formatting argument out of range") before widths were
    // capped: a resource address, an output name and an attribute key of 70,000
    // characters.
    let dir = tempfile::tempdir().unwrap();
    let long = "n".repeat(70_000);
    let mut state = trellis_state::State::new("network");
    state.outputs.insert(long.clone(), trellis_core::Value::Str("v".into()));
    state.outputs.insert("vpc_id".into(), trellis_core::Value::Str("vpc-1".into()));
    state.upsert(trellis_state::ResourceState {
        address: format!("vpc.{long}").parse().unwrap(),
        id: "vpc-1".into(),
        attributes: [(long.clone(), trellis_core::Value::Str("x".into()))].into_iter().collect(),
        dependencies: vec![],
        sensitive: vec![],
    });
    stored(dir.path(), &mut state);
    let file = "state/network.json";
    let spec = examples().join("network.yaml");
    let spec = spec.to_str().unwrap();
    for args in [
        vec!["state", "list", "--state", file],
        vec!["state", "list", spec, "--state", file],
        vec!["output", "--state", file],
    ] {
        let (code, out, err) = trellis(dir.path(), &args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(out.contains(&long), "{args:?}");
    }
    let address = format!("vpc.{long}");
    let (code, out, err) = trellis(dir.path(), &["state", "show", "--state", file, &address]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{long} = \"x\"")), "the attribute is listed");
}

#[test]
fn an_address_aws_cannot_tag_fails_validate_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let name = "v".repeat(300);
    std::fs::write(
        dir.path().join("long.yaml"),
        format!("stack: long\nresources:\n  vpc.{name}:\n    cidr_block: 10.0.0.0/16\n  target_group.web:\n    name: {}\n    port: 80\n    vpc_id: ${{vpc.{name}}}\n", "t".repeat(40)),
    )
    .unwrap();
    let (code, _, err) = trellis(dir.path(), &["validate", "long.yaml"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("long.yaml:3:3"), "{err}");
    assert!(err.contains("its `trellis:address` tag would be 304 characters, and AWS holds at most 256"), "{err}");
    assert!(err.contains("`name` of `target_group.web` is 40 characters; AWS takes at most 32"), "{err}");
    assert!(err.contains("long.yaml:6:11"), "{err}");
}

#[test]
fn a_saved_plan_whose_region_is_no_region_is_one_plain_error() {
    let dir = tempfile::tempdir().unwrap();
    let plan = r#"{"trellis_saved_plan": 3,
      "spec": {"path": "x.yaml", "sha256": "00", "vars": {}},
      "region": "not a region", "state_path": "state/x.json",
      "plan": {"format_version": 1, "stack": "x", "operation": "apply",
        "prior_state": {"lineage": null, "serial": 0, "resources": []},
        "refreshed": [], "drift": [], "changes": [], "outputs": {}, "planned_outputs": {}, "orphans": []}}"#;
    std::fs::write(dir.path().join("x.plan"), plan).unwrap();
    let (code, _, err) = trellis(dir.path(), &["apply", "x.plan"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("`not a region` is not an AWS region name"), "{err}");
    assert!(!err.contains("ConstructionFailure"), "{err}");
}

/// Writes `state` as the network example's local state in `dir`, under its lock.
fn stored(dir: &std::path::Path, state: &mut trellis_state::State) -> trellis_state::LocalStore {
    let store = trellis_state::LocalStore::new(dir.join("state/network.json"));
    let lock = store.lock("apply").unwrap();
    store.write(&lock, state).unwrap();
    drop(lock);
    store
}

#[test]
fn missing_credentials_are_one_plain_error_saying_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .current_dir(dir.path())
        .args(["plan", spec.to_str().unwrap()])
        .env_clear()
        .env("HOME", dir.path())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        // No instance role to look for on a test machine.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.starts_with("error: no AWS credentials were found.\nhelp: choose a profile with AWS_PROFILE"), "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID") && err.contains("AWS_ENDPOINT_URL"), "{err}");
    assert!(err.len() < 400 && !err.contains("Error {"), "no SDK internals: {err}");
}

#[test]
fn an_unreachable_endpoint_is_named_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let (code, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("AWS NetworkError: could not reach the endpoint: Connection refused"), "{err}");
    assert!(err.contains("help: check the network and the region (`"), "{err}");
    assert!(!err.contains("DispatchFailure"), "the SDK's detail only with --verbose: {err}");
}

#[test]
fn verbose_adds_the_sdk_detail() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let (code, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap(), "--verbose"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("could not reach the endpoint: Connection refused") && err.contains("DispatchFailure"),
        "{err}"
    );
}

#[test]
fn completions_are_printed_for_bash_zsh_and_fish_and_bash_takes_them() {
    let dir = tempfile::tempdir().unwrap();
    let (code, bash, _) = trellis(dir.path(), &["completions", "bash"]);
    assert_eq!(code, 0);
    for word in ["plan", "apply", "destroy", "state", "--refresh-only", "--replace", "--allow-data-loss"] {
        assert!(bash.contains(word), "`{word}` is not completed:\n{bash}");
    }
    // bash itself loads the script and registers it for `trellis`.
    let script = dir.path().join("trellis.bash");
    std::fs::write(&script, &bash).unwrap();
    let loaded = Command::new("bash")
        .args(["-c", &format!("source {} && complete -p trellis", script.display())])
        .output()
        .unwrap();
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("trellis"), "{loaded:?}");

    let (code, zsh, _) = trellis(dir.path(), &["completions", "zsh"]);
    assert_eq!(code, 0);
    assert!(zsh.starts_with("#compdef trellis"), "{zsh}");
    let (code, fish, _) = trellis(dir.path(), &["completions", "fish"]);
    assert_eq!(code, 0);
    assert!(fish.contains("complete -c trellis") && fish.contains("refresh-only"), "{fish}");
    let (code, _, err) = trellis(dir.path(), &["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("bash") && err.contains("zsh") && err.contains("fish"), "{err}");
}

#[test]
fn every_example_is_what_its_findings_ask_for() {
    // A newcomer copies these: none may carry a high finding that is not waived with
    // a reason (IMDSv1, unencrypted databases).
    let vars: &[(&str, &[&str])] = &[
        ("mysql-read-replica.yaml", &["--var", "db_user=admin"]),
        ("wordpress-multi-az.yaml", &["--var", "db_user=admin"]),
        (
            "asg-notifications.yaml",
            &[
                "--var",
                "notification_topic=arn:aws:sns:us-east-1:123456789012:t",
                "--var",
                "certificate_arn=arn:aws:acm:us-east-1:123456789012:certificate/x",
            ],
        ),
    ];
    let mut seen = 0;
    for entry in std::fs::read_dir(examples()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if !name.ends_with(".yaml") {
            continue;
        }
        let extra = vars.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or_default();
        let args: Vec<&str> =
            ["check", name.as_str(), "--fail-on", "high"].into_iter().chain(extra.iter().copied()).collect();
        let (code, out, err) = trellis(&examples(), &args);
        assert_eq!(code, 0, "{name}:\n{out}{err}");
        assert!(!out.contains("\n  HIGH") && !out.contains("\n  CRITICAL"), "{name}:\n{out}");
        seen += 1;
    }
    assert!(seen >= 14, "{seen} examples");
}

#[test]
fn a_secret_aws_would_refuse_is_refused_before_any_call_without_showing_it() {
    let spec = examples().join("web-mysql.yaml");
    let dir = tempfile::tempdir().unwrap();
    for (secret, why) in [
        ("p@ss word123", "AWS takes no @ or a space in a password"),
        ("x7Q2z", "is 5 characters; AWS takes at least 8"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
            .current_dir(dir.path())
            .args(["plan", spec.to_str().unwrap()])
            .env("NO_COLOR", "1")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ACCESS_KEY_ID", "x")
            .env("AWS_SECRET_ACCESS_KEY", "x")
            .env("AWS_REGION", "us-east-1")
            .env("MYSQL_PASSWORD", secret)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("MYSQL_PASSWORD (for `db_instance.main.master_user_password`)"), "{err}");
        assert!(err.contains(why), "{err}");
        assert!(!err.contains(secret), "the secret is shown: {err}");
        assert!(!err.contains("dispatch failure"), "refused before any AWS call: {err}");
    }
}
