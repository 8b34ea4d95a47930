//! Helpers for the end-to-end tests: a stack with its own name (so tests can share one
//! emulator), the trellis binary pointed at the emulator, and SDK reads of what is live.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use trellis_aws::sdk::ec2;
use trellis_aws::sdk::ec2::types::Filter;
use trellis_state::State;

pub const NETWORK: &str = include_str!("../../specs/examples/network.yaml");

/// The emulator the tests talk to. Set by `cargo xtask test`; the tests never fall back
/// to real AWS.
pub fn endpoint() -> String {
    std::env::var("TRELLIS_TEST_ENDPOINT").unwrap_or_else(|_| {
        panic!("the end-to-end tests run against the moto emulator: run them with `cargo xtask test`")
    })
}

/// The fault layer in front of the same emulator (`crates/xtask/faults.py`, started
/// by `cargo xtask test`): throttling, 5xx before and after a call ran, resets, cut and
/// garbled replies, and EC2's eventual consistency.
pub fn faulty_endpoint() -> String {
    std::env::var("TRELLIS_TEST_FAULTY_ENDPOINT")
        .unwrap_or_else(|_| panic!("the fault tests run through the fault layer: run them with `cargo xtask test`"))
}

/// A fault layer of the test's own in front of the emulator (`crates/xtask/faults.py
/// ARGS`), for faults that must reach only this test's calls. Stopped when dropped.
pub struct FaultLayer {
    child: std::process::Child,
    pub url: String,
}

impl FaultLayer {
    pub fn start(args: &[&str]) -> FaultLayer {
        let python = std::env::var("TRELLIS_TEST_PYTHON")
            .unwrap_or_else(|_| panic!("the fault tests start Python's fault layer: run them with `cargo xtask test`"));
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/xtask/faults.py");
        let mut child = Command::new(python)
            .arg(script)
            .args(["--listen", &port.to_string(), "--upstream", &endpoint()])
            .args(args)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("starting the fault layer");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the fault layer exited at start: {status}");
            }
            assert!(std::time::Instant::now() < deadline, "the fault layer did not listen within 20 s");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        FaultLayer { child, url: format!("http://127.0.0.1:{port}") }
    }
}

/// What a fault layer injected so far (its `GET /_faults/stats`).
pub fn fault_stats(endpoint: &str) -> serde_json::Value {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET /_faults/stats HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    serde_json::from_str(body).unwrap()
}

impl Drop for FaultLayer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub struct Stack {
    /// Where trellis is pointed: the emulator, or the fault layer in front of it.
    pub endpoint: String,
    pub name: String,
    pub dir: tempfile::TempDir,
    /// Where trellis runs and the state is kept: `dir`, or the directory of the stack
    /// this one was made beside.
    pub work: PathBuf,
    pub spec: PathBuf,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Stack {
    /// A stack from `spec_text` with its `stack:` renamed to something unique.
    pub fn new(test: &str, spec_text: &str) -> Stack {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("{}-{:x}{n}", &test[..test.len().min(18)], nanos % 0xfffff).replace('_', "-");
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("stack.yaml");
        let work = dir.path().to_path_buf();
        let s = Stack { endpoint: endpoint(), name, dir, work, spec };
        s.write_spec(spec_text);
        s
    }

    /// Another stack whose spec and state sit in this one's directory, as two stacks
    /// that read each other's states by their local files do; `stack.OTHER.` in
    /// `spec_text` names this stack (`other` is the name the text uses for it).
    pub fn beside(&self, test: &str, other: &str, spec_text: &str) -> Stack {
        let text = spec_text.replace(&format!("stack.{other}."), &format!("stack.{}.", self.name));
        let mut s = Stack::new(test, "");
        s.endpoint = self.endpoint.clone();
        s.work = self.work.clone();
        s.spec = self.work.join(format!("{}.yaml", s.name));
        s.write_spec(&text);
        s
    }

    /// Points trellis at the fault layer instead of the emulator itself.
    pub fn through_faults(mut self) -> Stack {
        self.endpoint = faulty_endpoint();
        self
    }

    /// Writes the spec, keeping this stack's name.
    pub fn write_spec(&self, text: &str) {
        let renamed: String = text
            .lines()
            .map(|l| if l.starts_with("stack:") { format!("stack: {}", self.name) } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&self.spec, renamed + "\n").unwrap();
    }

    /// Writes a file next to the spec (a boot script the spec names).
    pub fn write_file(&self, relative: &str, text: &str) {
        let path = self.work.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_trellis"));
        cmd.current_dir(&self.work)
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("NO_COLOR", "1")
            .env_remove("AWS_PROFILE")
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs `trellis ARGS SPEC ...` (the spec path is put where `{spec}` stands).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs like [`Stack::run`], with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let spec = self.spec.to_string_lossy().to_string();
        let args: Vec<&str> = args.iter().map(|a| if *a == "{spec}" { spec.as_str() } else { a }).collect();
        let mut cmd = self.command(&args);
        cmd.envs(env.iter().copied());
        let out: Output = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: args.join(" "),
        }
    }

    pub fn apply(&self) -> Run {
        self.run(&["apply", "{spec}", "--auto-approve"]).expect_code(0)
    }

    pub fn plan(&self) -> Run {
        self.run(&["plan", "{spec}", "--detailed-exitcode"])
    }

    /// Final snapshots of a database, by name.
    pub async fn snapshots_of(&self, db: &str) -> Vec<String> {
        let aws = aws().await;
        let out = aws.rds().describe_db_snapshots().db_instance_identifier(db).send().await.unwrap();
        let mut names: Vec<String> =
            out.db_snapshots().iter().filter_map(|s| s.db_snapshot_identifier().map(str::to_string)).collect();
        names.sort();
        names
    }

    pub fn destroy_and_check_clean(&self) {
        self.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
        assert!(self.state().resources.is_empty());
    }

    pub fn state_path(&self) -> PathBuf {
        self.work.join("state").join(format!("{}.json", self.name))
    }

    /// The state as a run reads it: the document, with its journal played over it.
    pub fn state(&self) -> State {
        let mut state: State = serde_json::from_str(&std::fs::read_to_string(self.state_path()).unwrap()).unwrap();
        let journal = trellis_state::LocalStore::new(self.state_path()).journal_path();
        if let Ok(text) = std::fs::read_to_string(&journal) {
            trellis_state::replay_text(&mut state, &text, &journal.display().to_string()).unwrap();
        }
        state
    }

    pub fn id(&self, address: &str) -> String {
        let a = address.parse().unwrap();
        self.state().get(&a).unwrap_or_else(|| panic!("{address} is not in the state")).id.clone()
    }
}

#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub args: String,
}

impl Run {
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "`trellis {}` exited {} (expected {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }
}

pub async fn ec2() -> ec2::Client {
    let aws = trellis_aws::connect(trellis_aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint()),
        ..Default::default()
    })
    .await
    .unwrap();
    aws.ec2().clone()
}

/// Every object of the network kinds (Elastic IPs and NAT gateways too) tagged with
/// `stack`: id -> its `trellis:address` tag.
pub async fn tagged(client: &ec2::Client, stack: &str) -> BTreeMap<String, String> {
    let f = || Filter::builder().name("tag:trellis:stack").values(stack).build();
    let addr = |tags: &[ec2::types::Tag]| {
        tags.iter().find(|t| t.key() == Some("trellis:address")).and_then(|t| t.value()).unwrap_or("?").to_string()
    };
    let mut out = BTreeMap::new();
    for v in client.describe_vpcs().filters(f()).send().await.unwrap().vpcs() {
        out.insert(v.vpc_id().unwrap().to_string(), addr(v.tags()));
    }
    for s in client.describe_subnets().filters(f()).send().await.unwrap().subnets() {
        out.insert(s.subnet_id().unwrap().to_string(), addr(s.tags()));
    }
    for g in client.describe_internet_gateways().filters(f()).send().await.unwrap().internet_gateways() {
        out.insert(g.internet_gateway_id().unwrap().to_string(), addr(g.tags()));
    }
    for t in client.describe_route_tables().filters(f()).send().await.unwrap().route_tables() {
        out.insert(t.route_table_id().unwrap().to_string(), addr(t.tags()));
    }
    for a in client.describe_network_acls().filters(f()).send().await.unwrap().network_acls() {
        out.insert(a.network_acl_id().unwrap().to_string(), addr(a.tags()));
    }
    for g in client.describe_security_groups().filters(f()).send().await.unwrap().security_groups() {
        out.insert(g.group_id().unwrap().to_string(), addr(g.tags()));
    }
    for a in client.describe_addresses().filters(f()).send().await.unwrap().addresses() {
        out.insert(a.allocation_id().unwrap().to_string(), addr(a.tags()));
    }
    for g in client.describe_nat_gateways().filter(f()).send().await.unwrap().nat_gateways() {
        if g.state().is_none_or(|s| s.as_str() != "deleted") {
            out.insert(g.nat_gateway_id().unwrap().to_string(), addr(g.tags()));
        }
    }
    out
}

/// Opens `port` on a security group behind trellis's back.
pub async fn open_port(client: &ec2::Client, group: &str, port: i32, cidr: &str) {
    use trellis_aws::sdk::ec2::types::{IpPermission, IpRange};
    let rule = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
        .build();
    client.authorize_security_group_ingress().group_id(group).ip_permissions(rule).send().await.unwrap();
}

/// The subnets a route table is associated with, as AWS reports them.
pub async fn route_table_subnets(client: &ec2::Client, table: &str) -> Vec<String> {
    let out = client.describe_route_tables().route_table_ids(table).send().await.unwrap();
    out.route_tables()[0].associations().iter().filter_map(|a| a.subnet_id()).map(str::to_string).collect()
}

/// The ingress ports of a security group, as AWS reports them.
pub async fn ingress_ports(client: &ec2::Client, group: &str) -> Vec<i32> {
    let out = client.describe_security_groups().group_ids(group).send().await.unwrap();
    out.security_groups()[0].ip_permissions().iter().filter_map(|p| p.from_port()).collect()
}

pub const WEB_ASG: &str = include_str!("../../specs/examples/web-asg.yaml");
pub const FIXED_SERVERS: &str = include_str!("../../specs/examples/fixed-servers.yaml");
pub const WEB_BOOT: &str = include_str!("../../specs/examples/files/web-boot.sh");
pub const WEB_MYSQL: &str = include_str!("../../specs/examples/web-mysql.yaml");
pub const POSTGRES_REPLICAS: &str = include_str!("../../specs/examples/postgres-replicas.yaml");
pub const SHARED_DB: &str = include_str!("../../specs/examples/shared-db.yaml");
pub const APP_TIER: &str = include_str!("../../specs/examples/app-tier.yaml");
pub const RECEIVER_BOOT: &str = include_str!("../../specs/examples/files/receiver-boot.sh");
pub const DEFAULT_VPC: &str = include_str!("../../specs/examples/default-vpc.yaml");
pub const RECEIVERS: &str = include_str!("../../specs/examples/receivers.yaml");
pub const SERVERS_PUB: &str = include_str!("../../specs/examples/files/servers.pub");
pub const VPC_MANAGED_NAT: &str = include_str!("../../specs/examples/vpc-managed-nat.yaml");
pub const ASG_NOTIFICATIONS: &str = include_str!("../../specs/examples/asg-notifications.yaml");
pub const MYSQL_READ_REPLICA: &str = include_str!("../../specs/examples/mysql-read-replica.yaml");
pub const EIP_ASSOCIATION: &str = include_str!("../../specs/examples/eip-association.yaml");
pub const WORDPRESS_MULTI_AZ: &str = include_str!("../../specs/examples/wordpress-multi-az.yaml");

/// awscli (pinned in the test venv) against the emulator; its standard output.
pub fn awscli(args: &[&str]) -> String {
    let python = std::env::var("TRELLIS_TEST_PYTHON").expect("run with `cargo xtask test`");
    let out = Command::new(python)
        .args(["-m", "awscli"])
        .args(args)
        .args(["--endpoint-url", &endpoint(), "--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub async fn aws() -> trellis_aws::Aws {
    trellis_aws::connect(trellis_aws::AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint()),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// An ACM certificate for `domain` that ACM has issued, as a team gets one by hand:
/// requested for DNS validation, its validation records written into a zone of their
/// own (the emulator, like ACM, issues it only then), and waited for.
pub async fn issued_certificate(domain: &str) -> String {
    let aws = aws().await;
    let arn = aws.acm().request_certificate().domain_name(domain).validation_method("DNS".into()).send().await.unwrap();
    let arn = arn.certificate_arn().unwrap().to_string();
    let zone = aws.route53().create_hosted_zone().name(domain).caller_reference(&arn).send().await.unwrap();
    let zone = zone.hosted_zone().unwrap().id().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut written = false;
    loop {
        let detail = aws.acm().describe_certificate().certificate_arn(&arn).send().await.unwrap();
        let detail = detail.certificate().unwrap();
        if detail.status().map(|s| s.as_str()) == Some("ISSUED") {
            return arn;
        }
        let records: Vec<(String, String)> = detail
            .domain_validation_options()
            .iter()
            .filter_map(|v| v.resource_record().map(|r| (r.name().to_string(), r.value().to_string())))
            .collect();
        if !written && !records.is_empty() {
            use trellis_aws::sdk::route53::types::{
                Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
            };
            let changes = records
                .iter()
                .map(|(name, value)| {
                    let set = ResourceRecordSet::builder()
                        .name(name)
                        .r#type(RrType::Cname)
                        .ttl(300)
                        .resource_records(ResourceRecord::builder().value(value).build().unwrap())
                        .build()
                        .unwrap();
                    Change::builder().action(ChangeAction::Upsert).resource_record_set(set).build().unwrap()
                })
                .collect();
            let batch = ChangeBatch::builder().set_changes(Some(changes)).build().unwrap();
            aws.route53().change_resource_record_sets().hosted_zone_id(&zone).change_batch(batch).send().await.unwrap();
            written = true;
        }
        assert!(std::time::Instant::now() < deadline, "ACM did not issue {arn} within 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Every object of any kind tagged with `stack` (launch templates, live instances,
/// load balancers, target groups and auto scaling groups too): id -> address tag.
pub async fn tagged_all(stack: &str) -> BTreeMap<String, String> {
    let aws = aws().await;
    let mut out = tagged(aws.ec2(), stack).await;
    let f = || Filter::builder().name("tag:trellis:stack").values(stack).build();
    let addr = |tags: &[ec2::types::Tag]| {
        tags.iter().find(|t| t.key() == Some("trellis:address")).and_then(|t| t.value()).unwrap_or("?").to_string()
    };
    for t in aws.ec2().describe_launch_templates().filters(f()).send().await.unwrap().launch_templates() {
        out.insert(t.launch_template_id().unwrap().to_string(), addr(t.tags()));
    }
    for r in aws.ec2().describe_instances().filters(f()).send().await.unwrap().reservations() {
        for i in r.instances() {
            let gone = i.state().and_then(|s| s.name()).is_some_and(|n| n.as_str() == "terminated");
            if !gone {
                out.insert(i.instance_id().unwrap().to_string(), addr(i.tags()));
            }
        }
    }
    let mut arns: Vec<String> = Vec::new();
    for lb in aws.elb().describe_load_balancers().send().await.unwrap().load_balancers() {
        arns.push(lb.load_balancer_arn().unwrap().to_string());
    }
    for tg in aws.elb().describe_target_groups().send().await.unwrap().target_groups() {
        arns.push(tg.target_group_arn().unwrap().to_string());
    }
    for chunk in arns.chunks(20) {
        let tags = aws.elb().describe_tags().set_resource_arns(Some(chunk.to_vec())).send().await.unwrap();
        for d in tags.tag_descriptions() {
            let get = |k: &str| d.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
            if get("trellis:stack") == Some(stack) {
                out.insert(d.resource_arn().unwrap().to_string(), get("trellis:address").unwrap_or("?").to_string());
            }
        }
    }
    // RDS knows its objects by name, and a database may share its name with its
    // subnet group: these are keyed `kind:name`.
    for d in aws.rds().describe_db_instances().send().await.unwrap().db_instances() {
        let get = |k: &str| d.tag_list().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        if get("trellis:stack") == Some(stack) {
            let id = format!("db_instance:{}", d.db_instance_identifier().unwrap());
            out.insert(id, get("trellis:address").unwrap_or("?").to_string());
        }
    }
    let mut rds_arns: Vec<(String, String)> = Vec::new();
    for g in aws.rds().describe_db_subnet_groups().send().await.unwrap().db_subnet_groups() {
        let name = format!("db_subnet_group:{}", g.db_subnet_group_name().unwrap());
        rds_arns.push((name, g.db_subnet_group_arn().unwrap().to_string()));
    }
    for g in aws.rds().describe_db_parameter_groups().send().await.unwrap().db_parameter_groups() {
        let name = format!("db_parameter_group:{}", g.db_parameter_group_name().unwrap());
        rds_arns.push((name, g.db_parameter_group_arn().unwrap().to_string()));
    }
    for (name, arn) in rds_arns {
        let tags = aws.rds().list_tags_for_resource().resource_name(arn).send().await.unwrap();
        let get = |k: &str| tags.tag_list().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        if get("trellis:stack") == Some(stack) {
            out.insert(name, get("trellis:address").unwrap_or("?").to_string());
        }
    }
    // Key pairs by name; IAM's roles and profiles (global, any path) by their tags.
    for k in aws.ec2().describe_key_pairs().filters(f()).send().await.unwrap().key_pairs() {
        out.insert(format!("key_pair:{}", k.key_name().unwrap()), addr(k.tags()));
    }
    let iam_addr = |tags: &[trellis_aws::sdk::iam::types::Tag]| {
        let get = |k: &str| tags.iter().find(|t| t.key() == k).map(|t| t.value().to_string());
        (get("trellis:stack").as_deref() == Some(stack)).then(|| get("trellis:address").unwrap_or_default())
    };
    // Other tests delete their roles and profiles meanwhile: one gone since the listing
    // is skipped.
    for r in aws.iam().list_roles().send().await.unwrap().roles() {
        let Ok(role) = aws.iam().get_role().role_name(r.role_name()).send().await else { continue };
        if let Some(a) = iam_addr(role.role().unwrap().tags()) {
            out.insert(format!("iam_role:{}", r.role_name()), a);
        }
    }
    for p in aws.iam().list_instance_profiles().send().await.unwrap().instance_profiles() {
        let name = p.instance_profile_name();
        let Ok(profile) = aws.iam().get_instance_profile().instance_profile_name(name).send().await else { continue };
        if let Some(a) = iam_addr(profile.instance_profile().unwrap().tags()) {
            out.insert(format!("iam_instance_profile:{name}"), a);
        }
    }
    // Scaling policies carry no tags: those of the stack's groups (named `STACK-...`),
    // keyed by ARN. Alarms are named `STACK-...` and tagged.
    let policies = aws.autoscaling().describe_policies().send().await.unwrap();
    for p in policies.scaling_policies() {
        if p.auto_scaling_group_name().is_some_and(|g| g.starts_with(&format!("{stack}-"))) {
            out.insert(format!("scaling_policy:{}", p.policy_arn().unwrap_or("?")), "scaling_policy".into());
        }
    }
    let alarms = aws.cloudwatch().describe_alarms().alarm_name_prefix(format!("{stack}-")).send().await.unwrap();
    for a in alarms.metric_alarms() {
        let tags = aws.cloudwatch().list_tags_for_resource().resource_arn(a.alarm_arn().unwrap()).send().await;
        let Ok(tags) = tags else { continue };
        let get = |k: &str| tags.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        if get("trellis:stack") == Some(stack) {
            let id = format!("metric_alarm:{}", a.alarm_name().unwrap());
            out.insert(id, get("trellis:address").unwrap_or("?").to_string());
        }
    }
    let groups = aws.autoscaling().describe_auto_scaling_groups().send().await.unwrap();
    for g in groups.auto_scaling_groups() {
        let get = |k: &str| g.tags().iter().find(|t| t.key() == Some(k)).and_then(|t| t.value());
        if get("trellis:stack") == Some(stack) {
            out.insert(
                g.auto_scaling_group_name().unwrap().to_string(),
                get("trellis:address").unwrap_or("?").to_string(),
            );
        }
    }
    out
}

/// The InService instances of an auto scaling group.
pub async fn group_instances(group: &str) -> Vec<String> {
    let aws = aws().await;
    let out = aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(group).send().await.unwrap();
    let mut ids: Vec<String> = out.auto_scaling_groups()[0]
        .instances()
        .iter()
        .filter(|i| i.lifecycle_state().is_some_and(|s| s.as_str() == "InService"))
        .map(|i| i.instance_id().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// The targets registered in a target group.
pub async fn targets(group_arn: &str) -> Vec<String> {
    let aws = aws().await;
    let out = aws.elb().describe_target_health().target_group_arn(group_arn).send().await.unwrap();
    let mut ids: Vec<String> =
        out.target_health_descriptions().iter().filter_map(|d| d.target()?.id().map(str::to_string)).collect();
    ids.sort();
    ids
}
