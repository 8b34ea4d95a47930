//! The spec writer (`trellis_spec::emit`, what `trellis discover` writes) against the
//! parser: any value written as an attribute reads back as the same value.

use proptest::prelude::*;
use trellis_core::{Expr, Value};
use trellis_spec::{emit, parse, LoadOptions, SourceFile};

/// Strings with what YAML and the spec language treat apart: quotes, `#`, `: `, `${`,
/// leading dashes and spaces, newlines, words YAML 1.1 reads as booleans.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        "[ -~\n\t]{0,14}",
        prop::sample::select(vec![
            "true",
            "no",
            "null",
            "-1",
            "80",
            "${x}",
            "$${y}",
            "a: b",
            " x",
            "#c",
            "x #c",
            "- a",
            "0.0.0.0/0"
        ])
        .prop_map(str::to_string),
    ]
    .boxed()
}

/// A policy-document-like tree of mappings, lists and strings.
fn tree() -> BoxedStrategy<Value> {
    let leaf = text().prop_map(Value::Str);
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            prop::collection::btree_map(text(), inner, 0..4).prop_map(Value::Map),
        ]
    })
    .boxed()
}

proptest! {
    #[test]
    fn a_written_document_reads_back_the_same(doc in prop::collection::btree_map(text(), tree(), 1..4)) {
        let doc = Value::Map(doc);
        let mut out = String::from("stack: emit\nresources:\n  iam_role.r:\n");
        emit::entry(&mut out, 4, "assume_role_policy_document", &Expr::Lit(doc.clone()));
        let spec = parse(SourceFile { name: "emit.yaml".into(), text: out.clone() }, &LoadOptions::default())
            .map_err(|d| TestCaseError::fail(format!("{}\n{out}", d.render(false))))?;
        let r = &spec.resources[&"iam_role.r".parse().unwrap()];
        let back = r.attrs["assume_role_policy_document"].eval(&|_| Value::Unknown);
        prop_assert_eq!(back, doc, "{}", out);
    }

    #[test]
    fn a_written_string_reads_back_the_same(s in text()) {
        let mut out = String::from("stack: emit\nresources:\n  iam_role.r:\n    assume_role_policy_document: {}\n");
        emit::entry(&mut out, 4, "description", &Expr::Lit(Value::Str(s.clone())));
        let spec = parse(SourceFile { name: "emit.yaml".into(), text: out.clone() }, &LoadOptions::default())
            .map_err(|d| TestCaseError::fail(format!("{}\n{out}", d.render(false))))?;
        let r = &spec.resources[&"iam_role.r".parse().unwrap()];
        prop_assert_eq!(r.attrs["description"].eval(&|_| Value::Unknown), Value::Str(s), "{}", out);
    }
}

#[test]
fn references_are_written_plain_and_read_back_as_references() {
    let mut out = String::from("stack: emit\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n  subnet.a:\n");
    let vpc: trellis_core::Ref = trellis_core::Ref::new("vpc.main".parse().unwrap(), None);
    emit::entry(&mut out, 4, "vpc_id", &Expr::Ref(vpc.clone()));
    emit::entry(&mut out, 4, "cidr_block", &Expr::Lit(Value::str("10.0.1.0/24")));
    assert!(out.contains("    vpc_id: ${vpc.main}\n"), "{out}");
    let spec = parse(SourceFile { name: "emit.yaml".into(), text: out }, &LoadOptions::default()).unwrap();
    assert_eq!(spec.resources[&"subnet.a".parse().unwrap()].attrs["vpc_id"], Expr::Ref(vpc));
}
