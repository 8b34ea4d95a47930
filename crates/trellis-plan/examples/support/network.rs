//! The generated network stack the scale examples measure: per VPC, 50 resources (the
//! VPC, an internet gateway, ten subnets, a route table and a network ACL over them, and
//! 36 security groups each open to the previous one). The examples plan it with the
//! planner's test support (`tests/support/mod.rs`).

use std::fmt::Write;

use trellis_spec::{parse, LoadOptions, SourceFile, Spec};

/// A generated spec, parsed (`name` is the file it is said to come from).
#[allow(dead_code)] // the components example loads files instead
pub fn load(name: &str, text: String) -> Spec {
    parse(SourceFile { name: name.into(), text }, &LoadOptions::default())
        .unwrap_or_else(|d| panic!("the generated spec is invalid:\n{}", d.render(false)))
}

/// A spec of about `resources` resources (a multiple of 50).
pub fn spec(resources: usize) -> String {
    let mut s = String::from("stack: scale\nregion: us-east-1\nresources:\n");
    for v in 0..resources.div_ceil(50) {
        vpc(&mut s, &format!("v{v}"), &(v % 256).to_string());
    }
    s
}

/// The same resources as `spec`, in copies of a component of 100 (two VPCs, their
/// second octets its inputs): the spec, and the component's file.
#[allow(dead_code)] // only the components example writes it
pub fn component_spec(resources: usize) -> (String, String) {
    let copies = resources.div_ceil(100);
    let stack = format!(
        "stack: scale\nregion: us-east-1\ncomponents:\n  net:\n    source: ./components/net\n    count: {copies}\n    inputs:\n      a: ${{count.index * 2 % 256}}\n      b: ${{(count.index * 2 + 1) % 256}}\n"
    );
    let mut component = String::from("inputs:\n  a: { type: number }\n  b: { type: number }\nresources:\n");
    vpc(&mut component, "a", "${var.a}");
    vpc(&mut component, "b", "${var.b}");
    (stack, component)
}

/// One VPC's 50 resources, named after `v`, its second octet `octet`.
fn vpc(s: &mut String, v: &str, octet: &str) {
    let _ = write!(s, "  vpc.{v}:\n    cidr_block: 10.{octet}.0.0/16\n");
    let _ = write!(s, "  internet_gateway.{v}:\n    vpc_id: ${{vpc.{v}}}\n");
    let mut subnets = String::new();
    for n in 0..10 {
        let _ = write!(s, "  subnet.{v}_{n}:\n    vpc_id: ${{vpc.{v}}}\n    cidr_block: 10.{octet}.{n}.0/24\n");
        let _ = writeln!(subnets, "      - ${{subnet.{v}_{n}}}");
    }
    let _ = write!(
        s,
        "  route_table.{v}:\n    vpc_id: ${{vpc.{v}}}\n    routes:\n      - destination_cidr_block: 0.0.0.0/0\n        gateway_id: ${{internet_gateway.{v}}}\n    subnet_ids:\n{subnets}"
    );
    let _ = write!(
        s,
        "  network_acl.{v}:\n    vpc_id: ${{vpc.{v}}}\n    subnet_ids:\n{subnets}    ingress:\n      - {{ rule_number: 100, protocol: tcp, port_range: {{ from: 443, to: 443 }}, cidr_block: 0.0.0.0/0, rule_action: allow }}\n"
    );
    for g in 0..36 {
        let from = if g == 0 {
            "cidr: 0.0.0.0/0".to_string()
        } else {
            format!("source_group: ${{security_group.{v}_{}}}", g - 1)
        };
        let _ = write!(
            s,
            "  security_group.{v}_{g}:\n    vpc_id: ${{vpc.{v}}}\n    description: tier {g}\n    ingress:\n      - protocol: tcp\n        port: 443\n        {from}\n"
        );
    }
}
