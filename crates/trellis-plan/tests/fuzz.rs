//! Fuzz targets: no input makes trellis panic. Each target takes a valid document (a
//! spec, a state, a journal, a saved plan) and mutates it the way a careless edit or a
//! hostile file does: bytes flipped, cut, repeated, replaced by long runs; JSON values
//! swapped for other types, huge strings and numbers. Every reader and renderer must
//! answer with a value or an error, never a panic.
//!
//! CI runs a bounded number of cases (`TRELLIS_FUZZ_CASES`, 64 by default);
//! `cargo xtask fuzz` runs many more.

mod support;

use proptest::prelude::*;
use serde_json::Value as J;
use trellis_plan::{render, render_markdown, to_json, RenderOptions, SavedPlan, SpecSource, SAVED_PLAN_FORMAT};
use trellis_spec::{parse, LoadOptions, SourceFile};
use trellis_state::State;

const SPEC: &str = r#"stack: web
region: us-east-1
vars:
  cidr: 10.0.0.0/16
resources:
  vpc.main:
    cidr_block: ${var.cidr}
  subnet.a:
    count: 2
    vpc_id: ${vpc.main}
    cidr_block: 10.0.${count.index}.0/24
    availability_zone: us-east-1a
  security_group.web:
    vpc_id: ${vpc.main}
    ingress:
      - { protocol: tcp, port: 80, cidr: 0.0.0.0/0 }
  launch_template.web:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    user_data: |
      #!/bin/sh
      echo hello
  target_group.web:
    port: 8080
    vpc_id: ${vpc.main}
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 3
    vpc_zone_identifier: ["${subnet.a[0]}", "${subnet.a[1]}"]
    target_group_arns: ["${target_group.web}"]
    tags: { Team: web }
outputs:
  vpc: ${vpc.main}
"#;

fn cases() -> u32 {
    std::env::var("TRELLIS_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
}

/// One edit of a text: a byte range replaced by other bytes, cut, or repeated, or a
/// long run put in (past the 65,535 a formatter takes as a width).
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, usize, String),
    Cut(usize, usize),
    Repeat(usize, usize, usize),
    LongRun(usize, char, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0usize..8, "\\PC{0,8}").prop_map(|(a, n, s)| Edit::Replace(a, n, s)),
        (any::<usize>(), 0usize..64).prop_map(|(a, n)| Edit::Cut(a, n)),
        (any::<usize>(), 1usize..32, 1usize..4).prop_map(|(a, n, k)| Edit::Repeat(a, n, k)),
        (any::<usize>(), prop::sample::select(vec!['a', '{', '[', '"', ' ', '\n', '9', '-', '$']), 1usize..70_000)
            .prop_map(|(a, c, n)| Edit::LongRun(a, c, n)),
    ]
}

fn boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A range of `n` bytes from a place picked by `pick`, on character boundaries.
fn span(text: &str, pick: usize, n: usize) -> (usize, usize) {
    let a = boundary(text, pick % (text.len() + 1));
    (a, boundary(text, a.saturating_add(n)).max(a))
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut t = text.to_string();
    for e in edits {
        match e {
            Edit::Replace(a, n, s) => {
                let (a, b) = span(&t, *a, *n);
                t.replace_range(a..b, s);
            }
            Edit::Cut(a, n) => {
                let (a, b) = span(&t, *a, *n);
                t.replace_range(a..b, "");
            }
            Edit::Repeat(a, n, k) => {
                let (a, b) = span(&t, *a, *n);
                let piece = t[a..b].repeat(*k);
                t.insert_str(b, &piece);
            }
            Edit::LongRun(a, c, n) => {
                let (a, _) = span(&t, *a, 0);
                t.insert_str(a, &c.to_string().repeat(*n));
            }
        }
    }
    t
}

/// One edit of a JSON document: a value somewhere replaced by another of any type.
#[derive(Debug, Clone)]
struct JsonEdit {
    pick: usize,
    with: J,
}

fn json_value() -> impl Strategy<Value = J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map(J::Number).unwrap_or(J::Null)),
        "\\PC{0,12}".prop_map(J::String),
        (1usize..70_000).prop_map(|n| J::String("k".repeat(n))),
        Just(J::Array(vec![])),
        Just(serde_json::json!({})),
        prop::sample::select(vec![
            "no-op",
            "create",
            "update",
            "delete",
            "forget",
            "delete-then-create",
            "create-then-delete"
        ])
        .prop_map(|s| J::String(s.into())),
    ]
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    (any::<usize>(), json_value()).prop_map(|(pick, with)| JsonEdit { pick, with })
}

fn count(v: &J) -> usize {
    1 + match v {
        J::Array(a) => a.iter().map(count).sum(),
        J::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

fn replace_nth(v: &mut J, n: &mut usize, with: &J) -> bool {
    if *n == 0 {
        *v = with.clone();
        return true;
    }
    *n -= 1;
    match v {
        J::Array(a) => a.iter_mut().any(|x| replace_nth(x, n, with)),
        J::Object(o) => o.values_mut().any(|x| replace_nth(x, n, with)),
        _ => false,
    }
}

fn apply_json(doc: &J, edits: &[JsonEdit]) -> J {
    let mut doc = doc.clone();
    for e in edits {
        let mut n = e.pick % count(&doc);
        replace_nth(&mut doc, &mut n, &e.with);
    }
    doc
}

/// A state of the spec as a faithful cloud would leave it, as its file holds it.
fn state_text() -> String {
    serde_json::to_string_pretty(&support::converged(SPEC)).unwrap()
}

fn saved_plan() -> SavedPlan {
    let mut state = support::converged(SPEC);
    // Something to change, so the plan has a diff to render.
    state.resources.retain(|r| r.address.kind.name != "security_group");
    let plan = support::run(SPEC, Some(&state));
    SavedPlan {
        trellis_saved_plan: SAVED_PLAN_FORMAT,
        spec: SpecSource {
            path: "web.yaml".into(),
            sha256: "0".repeat(64),
            vars: Default::default(),
            components: Default::default(),
        },
        region: Some("us-east-1".into()),
        state_path: "state/web.json".into(),
        state_region: None,
        plan,
    }
}

/// Every way a plan is shown.
fn show(saved: &SavedPlan) {
    let _ = render(&saved.plan, RenderOptions::default());
    let _ = render_markdown(&saved.plan);
    let _ = to_json(&saved.plan);
    let _ = saved.digest();
    let _ = saved.touched();
    let _ = saved.staleness(None, Some("x"), &Default::default());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_spec_text_makes_the_parser_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(SPEC, &edits);
        let _ = parse(SourceFile { name: "web.yaml".into(), text }, &LoadOptions::default());
    }

    #[test]
    fn no_state_file_makes_the_reader_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let text = apply(&state_text(), &edits);
        let _ = trellis_state::parse_state(&text, "state/web.json", "web");
    }

    #[test]
    fn no_state_document_makes_the_reader_panic(edits in prop::collection::vec(json_edit(), 1..4)) {
        let doc: J = serde_json::from_str(&state_text()).unwrap();
        let text = apply_json(&doc, &edits).to_string();
        if let Ok(state) = trellis_state::parse_state(&text, "state/web.json", "web") {
            let _ = serde_json::to_string(&state);
        }
    }

    #[test]
    fn no_journal_makes_the_reader_panic(edits in prop::collection::vec(edit(), 1..4)) {
        let state: State = support::converged(SPEC);
        let line = |seq: u64, entry: &str| format!(
            "{{\"lineage\":\"{}\",\"serial\":{},\"seq\":{seq},{entry}}}\n",
            state.lineage, state.serial
        );
        let journal = line(1, "\"started\":{\"address\":\"vpc.main\",\"operation\":\"update\"}")
            + &line(2, "\"settled\":{\"address\":\"vpc.main\",\"operation\":\"update\",\"removed\":[\"subnet.a[0]\"]}");
        let text = apply(&journal, &edits);
        let mut s = state.clone();
        let _ = trellis_state::replay_text(&mut s, &text, "state/web.json.journal");
    }

    #[test]
    fn no_saved_plan_makes_reading_or_showing_it_panic(edits in prop::collection::vec(json_edit(), 1..4)) {
        let doc = serde_json::to_value(saved_plan()).unwrap();
        let text = apply_json(&doc, &edits).to_string();
        if let Ok(saved) = SavedPlan::from_json(&text) {
            show(&saved);
        }
    }

    #[test]
    fn no_saved_plan_text_makes_reading_it_panic(edits in prop::collection::vec(edit(), 1..3)) {
        let text = apply(&saved_plan().to_json(), &edits);
        if let Ok(saved) = SavedPlan::from_json(&text) {
            show(&saved);
        }
    }
}

/// The four panics found by hand, each a name longer than a formatter's width.
#[test]
fn names_longer_than_a_format_width_are_shown_unpadded() {
    let long = "k".repeat(70_000);
    let mut saved = saved_plan();
    let change = saved.plan.changes.iter_mut().find(|c| c.action != trellis_plan::Action::NoOp).unwrap();
    change.after.as_mut().unwrap().insert(long.clone(), trellis_core::Value::str("v"));
    if let Some(b) = change.before.as_mut() {
        b.insert(long.clone(), trellis_core::Value::str("w"));
    }
    saved.plan.planned_outputs.insert(long.clone(), trellis_core::Value::str("o"));
    let text = render(&saved.plan, RenderOptions::default());
    assert!(text.contains(&long), "the long attribute is shown");
    let _ = render_markdown(&saved.plan);
    assert_eq!(trellis_plan::column_width([long.len(), 3].into_iter()), trellis_plan::MAX_COLUMN);
}
