//! What a plan says a change interrupts: each attribute's declared effect, the
//! strongest one of an update, a replacement's order, a loss of data; shown per change,
//! summed up before the plan's last line, and carried by JSON and markdown. The
//! property test holds the declarations against the schema's replacement rules.

mod support;

use proptest::prelude::*;
use support::{addr, converged, run};
use trellis_core::kinds;
use trellis_core::schema::{Effect, Kind, Mode};
use trellis_plan::{render, Action, RenderOptions};

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  internet_gateway.gw:
    vpc_id: ${vpc.main}
  route_table.public:
    vpc_id: ${vpc.main}
    routes:
      - destination_cidr_block: 0.0.0.0/0
        gateway_id: ${internet_gateway.gw}
  instance.app:
    image_id: ami-1
    instance_type: t3.micro
    subnet_id: ${subnet.a}
  elastic_ip.app:
    instance_id: ${instance.app}
  security_group.app:
    vpc_id: ${vpc.main}
    description: app
"#;

fn effect(p: &trellis_plan::Plan, a: &str) -> Option<Effect> {
    p.change(&addr(a)).unwrap().interruption.as_ref().map(|i| i.effect)
}

#[test]
fn a_type_change_restarts_the_instance_and_the_plan_says_so_everywhere() {
    let st = converged(SPEC);
    let p = run(&SPEC.replace("t3.micro", "t3.small"), Some(&st));
    let c = p.change(&addr("instance.app")).unwrap();
    assert_eq!(c.action, Action::Update);
    let i = c.interruption.as_ref().expect("an interruption");
    assert_eq!((i.effect, i.because.as_slice()), (Effect::Restart, &["instance_type".to_string()][..]));
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("  # interrupts: restart (instance_type): the instance stops and starts again"), "{text}");
    let summary = text.split("What this plan interrupts:").nth(1).expect("a summary");
    assert!(summary.trim_start().starts_with("instance.app: restart (instance_type)"), "{text}");
    let json = trellis_plan::to_json(&p);
    let rc = json["resource_changes"].as_array().unwrap().iter().find(|r| r["address"] == "instance.app").unwrap();
    assert_eq!(rc["interruption"]["effect"], "restart");
    assert_eq!(rc["interruption"]["because"], serde_json::json!(["instance_type"]));
    let md = trellis_plan::render_markdown(&p);
    assert!(md.contains("> **What this plan interrupts:**\n> - `instance.app`: restart (instance_type)"), "{md}");
}

#[test]
fn a_moved_address_or_route_is_a_brief_network_interruption() {
    let with_second = SPEC.replace(
        "  elastic_ip.app:\n    instance_id: ${instance.app}\n",
        "  instance.other:\n    image_id: ami-1\n    instance_type: t3.micro\n    subnet_id: ${subnet.a}\n  elastic_ip.app:\n    instance_id: ${instance.app}\n",
    );
    let st = converged(&with_second);
    let moved = with_second.replace("    instance_id: ${instance.app}\n", "    instance_id: ${instance.other}\n");
    let p = run(&moved, Some(&st));
    assert_eq!(effect(&p, "elastic_ip.app"), Some(Effect::Network));
    let st = converged(SPEC);
    let p = run(&SPEC.replace("0.0.0.0/0", "10.1.0.0/16"), Some(&st));
    assert_eq!(effect(&p, "route_table.public"), Some(Effect::Network));
}

#[test]
fn a_change_that_interrupts_nothing_says_nothing() {
    let st = converged(SPEC);
    let p = run(&SPEC.replace("description: app", "description: app\n    tags: { Team: web }"), Some(&st));
    assert_eq!(p.change(&addr("security_group.app")).unwrap().action, Action::Update);
    assert_eq!(effect(&p, "security_group.app"), None);
    let text = render(&p, RenderOptions::default());
    assert!(!text.contains("interrupts"), "{text}");
}

#[test]
fn a_replacement_says_its_order_and_the_summary_puts_the_strongest_first() {
    let st = converged(SPEC);
    let edited = SPEC.replace("cidr_block: 10.0.1.0/24", "cidr_block: 10.0.3.0/24").replace("t3.micro", "t3.small");
    let p = run(&edited, Some(&st));
    let subnet = p.change(&addr("subnet.a")).unwrap();
    assert!(subnet.action.is_replace());
    let i = subnet.interruption.as_ref().unwrap();
    assert_eq!((i.effect, i.because.clone()), (Effect::Replace, vec!["cidr_block".to_string()]));
    assert!(i.about.contains("deleted first"), "{}", i.about);
    let order: Vec<Effect> = p.interruptions().iter().map(|(_, i)| i.effect).collect();
    let mut sorted = order.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, sorted, "strongest first");
    // The instance follows its new subnet (replaced with it), so the strongest effect wins.
    assert_eq!(effect(&p, "instance.app"), Some(Effect::Replace));
}

/// Every attribute of `kind` that a spec sets, nested ones aside.
fn settable(kind: &'static Kind) -> Vec<&'static trellis_core::schema::Attr> {
    kind.object.attrs.iter().filter(|a| a.mode != Mode::Computed).collect()
}

#[test]
fn each_declaration_agrees_with_the_replacement_rules() {
    for kind in kinds::ALL {
        for a in kind.object.attrs {
            let (e, about) = a.effect(kind);
            if let Some(declared) = a.interrupts {
                assert!(!a.force_new, "{kind}.{}: a forced attribute replaces; it declares no interruption", a.name);
                assert!(!a.local && a.mode != Mode::Computed, "{kind}.{}: nothing on AWS changes with it", a.name);
                assert!(
                    matches!(declared.effect, Effect::Network | Effect::Restart),
                    "{kind}.{}: only `force_new` replaces",
                    a.name
                );
                assert!(!declared.about.is_empty(), "{kind}.{}: say what happens", a.name);
            }
            assert_eq!(a.force_new, e >= Effect::Replace, "{kind}.{}", a.name);
            assert_eq!(e == Effect::DataLoss, a.force_new && kind.holds_data.is_some(), "{kind}.{}", a.name);
            assert_eq!(e == Effect::None, about.is_empty(), "{kind}.{}", a.name);
        }
    }
}

proptest! {
    /// Whatever set of attributes a change touches, its interruption is the strongest
    /// effect among them, and it replaces (or loses data) exactly when one of them is
    /// `force_new`: what makes the planner replace the object.
    #[test]
    fn an_update_interrupts_as_its_strongest_attribute(
        kind_at in 0..kinds::ALL.len(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
    ) {
        let kind = kinds::ALL[kind_at];
        let attrs = settable(kind);
        let changed: Vec<&trellis_core::schema::Attr> = picks.iter().map(|i| attrs[i.index(attrs.len())]).collect();
        let got = trellis_plan::interruption_of_update(kind, &changed);
        let strongest = changed.iter().filter(|a| !a.local).map(|a| a.effect(kind).0).max().unwrap_or(Effect::None);
        prop_assert_eq!(got.as_ref().map(|i| i.effect).unwrap_or(Effect::None), strongest);
        let forced = changed.iter().any(|a| a.force_new && !a.local);
        prop_assert_eq!(strongest >= Effect::Replace, forced);
        if let Some(i) = got {
            for name in &i.because {
                let a = kind.object.attr(name).unwrap();
                prop_assert_eq!(a.effect(kind).0, i.effect, "each named attribute has the strongest effect");
            }
        }
    }
}
