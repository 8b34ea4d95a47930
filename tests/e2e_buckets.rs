//! End to end against the moto emulator: S3 buckets. The web-logs example
//! (`specs/examples/web-logs.yaml`) applies: its bucket holds every setting as sent
//! (versioning, encryption, the public access block, the lifecycle rule, the policy,
//! tags) and the load balancer logs into it; it re-plans empty; settings change in
//! place. A bucket holding objects is not deleted without consent, and goes with
//! `force_destroy: true` (its objects first); an empty one goes freely.

mod support;

use support::{aws, Stack};

const WEB_LOGS: &str = include_str!("../specs/examples/web-logs.yaml");

/// The example with a bucket name of this run's own (bucket names are global).
fn example(stack: &str) -> String {
    WEB_LOGS.replace("web-logs-access-logs-example", &format!("{stack}-access-logs"))
}

#[tokio::test]
async fn a_bucket_holds_its_settings_changes_in_place_and_keeps_its_data() {
    let stack = Stack::new("buckets", "");
    stack.write_spec(&example(&stack.name));
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 12 added"), "{}\n{}", applied.stdout, applied.stderr);
    let aws = aws().await;
    let s3 = aws.s3();
    let bucket = stack.id("s3_bucket.logs");
    assert_eq!(bucket, format!("{}-access-logs", stack.name));

    let v = s3.get_bucket_versioning().bucket(&bucket).send().await.unwrap();
    assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
    let e = s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap();
    let rule = &e.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm().as_str(), "AES256");
    let block = s3.get_public_access_block().bucket(&bucket).send().await.unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let own = s3.get_bucket_ownership_controls().bucket(&bucket).send().await.unwrap();
    assert_eq!(own.ownership_controls().unwrap().rules()[0].object_ownership().as_str(), "BucketOwnerEnforced");
    let life = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap();
    let r = &life.rules()[0];
    assert_eq!(r.id(), Some("expire-logs"));
    assert_eq!(r.expiration().and_then(|x| x.days()), Some(90));
    assert_eq!(r.transitions()[0].storage_class().map(|c| c.as_str()), Some("STANDARD_IA"));
    let policy = s3.get_bucket_policy().bucket(&bucket).send().await.unwrap();
    assert!(policy.policy().unwrap().contains("arn:aws:iam::127311923021:root"), "{:?}", policy.policy());
    let tags = s3.get_bucket_tagging().bucket(&bucket).send().await.unwrap();
    let tag = |k: &str| tags.tag_set().iter().find(|t| t.key() == k).map(|t| t.value().to_string());
    assert_eq!(tag("Team").as_deref(), Some("platform"));
    assert_eq!(tag("trellis:address").as_deref(), Some("s3_bucket.logs"));
    // The load balancer logs into it.
    let lb = stack.id("load_balancer.web");
    let attrs = aws.elb().describe_load_balancer_attributes().load_balancer_arn(&lb).send().await.unwrap();
    let get =
        |k: &str| attrs.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value()).map(str::to_string);
    assert_eq!(get("access_logs.s3.bucket").as_deref(), Some(bucket.as_str()));

    let again = stack.plan();
    assert_eq!(again.code, 0, "re-plans empty:\n{}\n{}", again.stdout, again.stderr);

    // Settings change in place, each by its own call.
    // The policy goes too: it refuses plain HTTP, which the emulator speaks, and the
    // emulator enforces bucket policies.
    let full = example(&stack.name);
    let (head, rest) = full.split_once("    policy:\n").unwrap();
    let tail = &rest[rest.find("\n  load_balancer.web:").unwrap()..];
    let changed = format!("{head}{tail}")
        .replace("expiration_days: 90", "expiration_days: 60")
        .replace("versioning: Enabled", "versioning: Suspended");
    stack.write_spec(&changed);
    let plan = stack.plan();
    assert!(plan.stdout.contains("s3_bucket.logs will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to replace"), "{}", plan.stdout);
    stack.apply();
    let v = s3.get_bucket_versioning().bucket(&bucket).send().await.unwrap();
    assert_eq!(v.status().map(|s| s.as_str()), Some("Suspended"));
    let life = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap();
    assert_eq!(life.rules()[0].expiration().and_then(|x| x.days()), Some(60));
    assert!(s3.get_bucket_policy().bucket(&bucket).send().await.is_err(), "the policy is gone");
    assert_eq!(stack.plan().code, 0);

    // A log in it: the bucket is data now.
    s3.put_object().bucket(&bucket).key("lb/one.log").body(b"GET /".to_vec().into()).send().await.unwrap();
    let refused = stack.run(&["destroy", "{spec}", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("DATA LOSS"), "{}", refused.stdout);
    assert!(refused.stdout.contains("s3_bucket.logs: destroyed; no final snapshot: its objects, every version of them, are deleted with it; protected"), "{}", refused.stdout);
    assert!(refused.stderr.contains("or set `force_destroy: true` on the bucket"), "{}", refused.stderr);
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_ok(), "the bucket is still there");

    // Consent in the spec: the objects go first, then the bucket.
    stack.write_spec(
        &changed
            .replace("    bucket: ${var.logs_bucket}\n", "    bucket: ${var.logs_bucket}\n    force_destroy: true\n"),
    );
    stack.apply();
    stack.destroy_and_check_clean();
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_err(), "the bucket is gone");
}

#[tokio::test]
async fn an_empty_bucket_goes_freely_and_a_full_one_with_allow_data_loss() {
    let spec = "stack: b\nresources:\n  s3_bucket.empty: {}\n  s3_bucket.full: {}\n";
    let stack = Stack::new("buckets-free", spec);
    stack.apply();
    let aws = aws().await;
    let full = stack.id("s3_bucket.full");
    assert_eq!(full, format!("{}-full", stack.name), "a made-up name is the stack's and the resource's");
    aws.s3().put_object().bucket(&full).key("a").body(b"x".to_vec().into()).send().await.unwrap();
    // The empty one is no data.
    stack.write_spec("stack: b\nresources:\n  s3_bucket.full: {}\n");
    let plan = stack.plan();
    assert!(!plan.stdout.contains("DATA LOSS"), "{}", plan.stdout);
    stack.apply();
    // The full one goes with --allow-data-loss, its object first.
    let gone = stack.run(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"]);
    assert_eq!(gone.code, 0, "{}\n{}", gone.stdout, gone.stderr);
    assert!(aws.s3().head_bucket().bucket(&full).send().await.is_err());
}
