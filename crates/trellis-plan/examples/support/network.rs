//! The generated network stack the scale examples measure: per VPC, 50 resources (the
//! VPC, an internet gateway, ten subnets, a route table and a network ACL over them, and
//! 36 security groups each open to the previous one). The examples plan it with the
//! planner's test support (`tests/support/mod.rs`).

use std::fmt::Write;

use trellis_spec::{parse, LoadOptions, SourceFile, Spec};

/// A generated spec, parsed (`name` is the file it is said to come from).
pub fn load(name: &str, text: String) -> Spec {
    parse(SourceFile { name: name.into(), text }, &LoadOptions::default())
        .unwrap_or_else(|d| panic!("the generated spec is invalid:\n{}", d.render(false)))
}

/// A spec of about `resources` resources (a multiple of 50).
pub fn spec(resources: usize) -> String {
    let mut s = String::from("stack: scale\nregion: us-east-1\nresources:\n");
    for v in 0..resources.div_ceil(50) {
        let _ = write!(s, "  vpc.v{v}:\n    cidr_block: 10.{}.0.0/16\n", v % 256);
        let _ = write!(s, "  internet_gateway.v{v}:\n    vpc_id: ${{vpc.v{v}}}\n");
        let mut subnets = String::new();
        for n in 0..10 {
            let _ =
                write!(s, "  subnet.v{v}_{n}:\n    vpc_id: ${{vpc.v{v}}}\n    cidr_block: 10.{}.{n}.0/24\n", v % 256);
            let _ = writeln!(subnets, "      - ${{subnet.v{v}_{n}}}");
        }
        let _ = write!(
            s,
            "  route_table.v{v}:\n    vpc_id: ${{vpc.v{v}}}\n    routes:\n      - destination_cidr_block: 0.0.0.0/0\n        gateway_id: ${{internet_gateway.v{v}}}\n    subnet_ids:\n{subnets}"
        );
        let _ = write!(
            s,
            "  network_acl.v{v}:\n    vpc_id: ${{vpc.v{v}}}\n    subnet_ids:\n{subnets}    ingress:\n      - {{ rule_number: 100, protocol: tcp, port_range: {{ from: 443, to: 443 }}, cidr_block: 0.0.0.0/0, rule_action: allow }}\n"
        );
        for g in 0..36 {
            let from = if g == 0 {
                "cidr: 0.0.0.0/0".to_string()
            } else {
                format!("source_group: ${{security_group.v{v}_{}}}", g - 1)
            };
            let _ = write!(
                s,
                "  security_group.v{v}_{g}:\n    vpc_id: ${{vpc.v{v}}}\n    description: tier {g}\n    ingress:\n      - protocol: tcp\n        port: 443\n        {from}\n"
            );
        }
    }
    s
}
