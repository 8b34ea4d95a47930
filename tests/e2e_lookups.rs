//! Lookups on the emulator: the default VPC, its subnets and an AMI from a public SSM
//! parameter (the `default-vpc` example); VPCs and groups by tags and name; the region's
//! zones; the newest image by owner and name; and the plan errors of a lookup that finds
//! nothing or too much.

mod support;

use support::{aws, tagged_all, Stack, DEFAULT_VPC, WEB_BOOT};
use trellis_aws::sdk::ec2::types::{Filter, ResourceType, Tag, TagSpecification};

/// The region's default VPC, as AWS reports it.
async fn default_vpc() -> String {
    let aws = aws().await;
    let f = Filter::builder().name("is-default").values("true").build();
    let out = aws.ec2().describe_vpcs().filters(f).send().await.unwrap();
    out.vpcs()[0].vpc_id().unwrap().to_string()
}

/// A VPC made outside trellis, tagged `Team: team`.
async fn outside_vpc(cidr: &str, team: &str) -> String {
    let aws = aws().await;
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::Vpc)
        .tags(Tag::builder().key("Team").value(team).build())
        .build();
    let out = aws.ec2().create_vpc().cidr_block(cidr).tag_specifications(tags).send().await.unwrap();
    out.vpc().unwrap().vpc_id().unwrap().to_string()
}

#[tokio::test]
async fn the_default_vpc_example_applies_replans_empty_and_destroys() {
    let stack = Stack::new("default-vpc", DEFAULT_VPC);
    stack.write_file("files/web-boot.sh", WEB_BOOT);
    let vpc = default_vpc().await;
    let read = aws()
        .await
        .ssm()
        .get_parameter()
        .name("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64")
        .send()
        .await
        .unwrap();
    let parameter = read.parameter().unwrap().value().unwrap().to_string();

    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Read from the account (lookups, never changed):"), "{}", plan.stdout);
    assert!(plan.stdout.contains("<= lookup.vpc.default (default: true)\n       cidr_block = "), "{}", plan.stdout);
    assert!(plan.stdout.contains(&format!("id         = \"{vpc}\"")), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("<= lookup.subnets.default (default_for_az: true, vpc_id: ${lookup.vpc.default})"),
        "{}",
        plan.stdout
    );
    let image = format!("= \"{parameter}\"");
    assert!(plan.stdout.lines().any(|l| l.contains("+ image_id ") && l.ends_with(&image)), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 7 to add, 0 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);

    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 7 added"), "{}", applied.stdout);
    let state = stack.state();
    assert_eq!(state.outputs["vpc"].as_str(), Some(vpc.as_str()));
    assert_eq!(state.outputs["image"].as_str(), Some(parameter.as_str()));
    // The balancer and the group sit in every default subnet of the default VPC.
    let aws = aws().await;
    let defaults = aws
        .ec2()
        .describe_subnets()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("default-for-az").values("true").build())
        .send()
        .await
        .unwrap();
    let mut want: Vec<String> = defaults.subnets().iter().map(|s| s.subnet_id().unwrap().to_string()).collect();
    want.sort();
    assert!(want.len() >= 2, "{want:?}");
    let group = state.resources.iter().find(|r| r.address.to_string() == "autoscaling_group.web").unwrap();
    let mut got: Vec<String> =
        group.attributes["vpc_zone_identifier"].as_list().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    got.sort();
    assert_eq!(got, want);
    let sg = aws.ec2().describe_security_groups().group_ids(stack.id("security_group.web")).send().await.unwrap();
    assert_eq!(sg.security_groups()[0].vpc_id(), Some(vpc.as_str()));

    let again = stack.plan().expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert!(again.stdout.contains("<= lookup.ami.al2023"), "{}", again.stdout);
    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
    // What the stack only read is still there.
    assert_eq!(default_vpc().await, vpc);
}

#[tokio::test]
async fn lookups_by_tags_name_and_zones_follow_what_they_find() {
    let team = format!("lk-{}", std::process::id());
    let first = outside_vpc("10.70.0.0/16", &team).await;
    let spec = format!(
        r#"stack: lookups
region: us-east-1
lookups:
  vpc.shared:
    tags: {{ Team: {team} }}
  security_group.default:
    group_name: default
    vpc_id: ${{lookup.vpc.shared}}
  availability_zones.all:
  ami.newest:
    owners: [amazon]
    name: al2023-ami-2023.*-kernel-6.1-x86_64
resources:
  security_group.app:
    vpc_id: ${{lookup.vpc.shared}}
    description: "app in ${{lookup.vpc.shared.cidr_block}}"
  subnet.a:
    vpc_id: ${{lookup.vpc.shared}}
    cidr_block: 10.70.1.0/24
    availability_zone: ${{lookup.availability_zones.all.names}}
outputs:
  default_group: ${{lookup.security_group.default}}
  zones: ${{lookup.availability_zones.all.names}}
  image: ${{lookup.ami.newest.name}}
"#
    );
    // A list is no single zone: refused offline, with the place.
    let stack = Stack::new("lookups", &spec);
    let bad = stack.run(&["validate", "{spec}"]).expect_code(1);
    assert!(bad.stderr.contains("is a list and stands alone"), "{}", bad.stderr);
    assert!(bad.stderr.contains("stack.yaml:20:24"), "{}", bad.stderr);

    let spec = spec.replace("${lookup.availability_zones.all.names}\noutputs", "us-east-1a\noutputs");
    stack.write_spec(&spec);
    let ok = stack.run(&["validate", "{spec}"]).expect_code(0);
    assert!(ok.stdout.contains("2 resources, 4 lookups (read when planning)."), "{}", ok.stdout);
    stack.apply();
    let state = stack.state();
    let group = state.resources.iter().find(|r| r.address.to_string() == "security_group.app").unwrap();
    assert_eq!(group.attributes["vpc_id"].as_str(), Some(first.as_str()));
    assert_eq!(group.attributes["description"].as_str(), Some("app in 10.70.0.0/16"));
    assert!(state.outputs["default_group"].as_str().unwrap().starts_with("sg-"));
    assert!(state.outputs["zones"].as_list().iter().any(|z| z.as_str() == Some("us-east-1a")), "{:?}", state.outputs);
    assert!(state.outputs["image"].as_str().unwrap().starts_with("al2023-ami-2023."), "{:?}", state.outputs);
    stack.plan().expect_code(0);

    // The tag moves to another VPC: what was made in the old one is replaced in the new.
    let aws = aws().await;
    aws.ec2().delete_tags().resources(&first).tags(Tag::builder().key("Team").build()).send().await.unwrap();
    let second = outside_vpc("10.71.0.0/16", &team).await;
    let moved = stack.plan().expect_code(2);
    assert!(moved.stdout.contains(&format!("id         = \"{second}\"")), "{}", moved.stdout);
    assert!(moved.stdout.contains("security_group.app must be replaced"), "{}", moved.stdout);
    assert!(moved.stdout.contains(&format!("vpc_id      = \"{first}\" -> \"{second}\"")), "{}", moved.stdout);

    // Two VPCs with the tag: one is wanted, and the plan says which filters found both.
    aws.ec2()
        .create_tags()
        .resources(&first)
        .tags(Tag::builder().key("Team").value(&team).build())
        .send()
        .await
        .unwrap();
    let two = stack.plan().expect_code(1);
    let mut both = [first.clone(), second.clone()];
    both.sort();
    assert!(
        two.stderr.contains(&format!(
            "`lookup.vpc.shared` found 2 vpcs with tags: {{Team: {team}}}, where one is wanted: {}, {}",
            both[0], both[1]
        )),
        "{}",
        two.stderr
    );
    assert!(two.stderr.contains("stack.yaml:4:3"), "{}", two.stderr);

    // None: the plan names the filters and the region.
    for id in [&first, &second] {
        aws.ec2().delete_tags().resources(id).tags(Tag::builder().key("Team").build()).send().await.unwrap();
    }
    let none = stack.plan().expect_code(1);
    assert!(
        none.stderr.contains(&format!("`lookup.vpc.shared` found no vpc with tags: {{Team: {team}}} in us-east-1")),
        "{}",
        none.stderr
    );
    // A destroy needs no lookup answered: the stack goes though its VPC is not found.
    stack.destroy_and_check_clean();
    for id in [&first, &second] {
        aws.ec2().delete_vpc().vpc_id(id).send().await.unwrap();
    }
}
