//! End to end against the moto emulator: routes in a table the stack does not own.
//! Another team's VPC, gateway and VPN instance are made here with the SDK; the
//! shared-network-routes example (`specs/examples/shared-network-routes.yaml`) finds
//! the VPC's main route table and the instance by lookups and adds two routes to the
//! table. They read back as sent, re-plan empty, change their target in place, and
//! destroy removes them and nothing of the team's.

mod support;

use support::{aws, Stack};
use trellis_aws::sdk::ec2::types::{Filter, ResourceType, Tag, TagSpecification};

const EXAMPLE: &str = include_str!("../specs/examples/shared-network-routes.yaml");

fn tagged(rt: ResourceType, tags: &[(&str, &str)]) -> TagSpecification {
    let tags = tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build());
    TagSpecification::builder().resource_type(rt).set_tags(Some(tags.collect())).build()
}

async fn routes(table: &str) -> Vec<(String, String)> {
    let out = aws().await.ec2().describe_route_tables().route_table_ids(table).send().await.unwrap();
    let mut got: Vec<(String, String)> = out.route_tables()[0]
        .routes()
        .iter()
        .filter(|r| r.gateway_id() != Some("local"))
        .map(|r| {
            let to = r.network_interface_id().or(r.gateway_id()).unwrap_or_default();
            (r.destination_cidr_block().unwrap_or_default().to_string(), to.to_string())
        })
        .collect();
    got.sort();
    got
}

#[tokio::test]
async fn routes_go_into_a_table_found_by_lookup_and_leave_it_as_they_found_it() {
    let stack = Stack::new("routes", "");
    let team = format!("{}-network", stack.name);
    let aws = aws().await;
    let ec2 = aws.ec2();
    // The network team's objects, made outside the stack.
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.77.0.0/16")
        .tag_specifications(tagged(ResourceType::Vpc, &[("Team", &team)]))
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let igw = ec2.create_internet_gateway().send().await.unwrap();
    let igw = igw.internet_gateway().unwrap().internet_gateway_id().unwrap().to_string();
    ec2.attach_internet_gateway().vpc_id(&vpc).internet_gateway_id(&igw).send().await.unwrap();
    let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block("10.77.1.0/24").send().await.unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
    let vpn = ec2
        .run_instances()
        .image_id("ami-0abcdef1234567890")
        .instance_type(trellis_aws::sdk::ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .tag_specifications(tagged(ResourceType::Instance, &[("Role", "vpn")]))
        .send()
        .await
        .unwrap();
    let vpn_eni = vpn.instances()[0].network_interfaces()[0].network_interface_id().unwrap().to_string();
    let main = ec2
        .describe_route_tables()
        .filters(Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(Filter::builder().name("association.main").values("true").build())
        .send()
        .await
        .unwrap();
    let main = main.route_tables()[0].route_table_id().unwrap().to_string();

    let spec = EXAMPLE
        .replace("network_team: network", &format!("network_team: {team}"))
        .replace("igw-0123456789abcdef0", &igw);
    stack.write_spec(&spec);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 2 added"), "{}\n{}", applied.stdout, applied.stderr);
    assert!(applied.stdout.contains(&format!("table       = \"{main}\"")), "{}", applied.stdout);
    assert_eq!(stack.id("route.internet"), format!("{main}_0.0.0.0/0"));
    assert_eq!(
        routes(&main).await,
        [("0.0.0.0/0".to_string(), igw.clone()), ("192.168.0.0/16".to_string(), vpn_eni.clone())]
    );
    let again = stack.plan();
    assert_eq!(again.code, 0, "re-plans empty:\n{}\n{}", again.stdout, again.stderr);

    // The target changes in place; the destination would replace.
    stack.write_spec(&spec.replace(
        "    network_interface_id: ${lookup.instance.vpn.network_interface_id}\n",
        "    gateway_id: ${var.internet_gateway}\n",
    ));
    let plan = stack.plan();
    assert!(plan.stdout.contains("route.office will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to replace"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(routes(&main).await[1], ("192.168.0.0/16".to_string(), igw.clone()));
    assert_eq!(stack.plan().code, 0);

    // A route the stack did not make is not taken over.
    let clash = Stack::new(
        "routes-clash",
        &format!("stack: clash\nresources:\n  route.again:\n    route_table_id: {main}\n    destination_cidr_block: 0.0.0.0/0\n    gateway_id: {vpn_eni}\n"),
    );
    let refused = clash.run(&["apply", "{spec}", "--auto-approve"]);
    assert_ne!(refused.code, 0, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stdout.contains("already has a route to 0.0.0.0/0, to igw-"),
        "{}\n{}",
        refused.stdout,
        refused.stderr
    );

    stack.destroy_and_check_clean();
    assert!(routes(&main).await.is_empty(), "the stack's routes are gone");
    let still = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    assert_eq!(still.vpcs().len(), 1, "the team's VPC is theirs");
}
