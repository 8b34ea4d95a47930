//! Pre-flight: the questions a plan asks of the live account before its first change,
//! from what the schema declares (`Attr::image`, `Type::Ref` to objects the stack does
//! not make, `Kind::generated_name` fixed by the spec, `Kind::addresses` with its
//! instance type, `Kind::zone`, `Kind::account_limit`), and the judgement of the
//! answers. The reads themselves are the provider's. Names no kind.

use std::collections::{BTreeMap, BTreeSet};

use trellis_core::preflight::{Answers, Check, Questions};
use trellis_core::schema::Type;
use trellis_core::{Address, Expr, Value};

use crate::model::{Action, Plan, ResourceChange};

/// A change that will call AWS with its attributes.
fn calls(c: &ResourceChange) -> bool {
    matches!(c.action, Action::Create | Action::Update | Action::CreateThenDelete | Action::DeleteThenCreate)
}

/// A value the spec wrote itself (not a reference to one of its resources).
fn literal(c: &ResourceChange, attr: &str) -> bool {
    c.config.as_ref().and_then(|cfg| cfg.get(attr)).is_some_and(|e| e.refs().is_empty())
}

fn changed(c: &ResourceChange, attr: &str) -> bool {
    let get = |a: &Option<trellis_core::Attrs>| a.as_ref().and_then(|a| a.get(attr)).cloned();
    c.action != Action::Update || get(&c.before) != get(&c.after)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Str(s)) => vec![s.clone()],
        Some(Value::List(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => vec![],
    }
}

/// The instance type a change launches, when it changes (or the object is new): its own
/// attribute, or the one of what it refers to (a group's launch template).
fn launched_type(plan: &Plan, c: &ResourceChange, needs: &trellis_core::schema::AddressNeeds) -> Option<String> {
    let after = c.after.as_ref()?;
    if let Some(t) = needs.instance_type {
        return changed(c, t).then(|| after.get(t)?.as_str().map(str::to_string)).flatten();
    }
    let (via, attr) = needs.instance_type_via?;
    let r = c.config.as_ref()?.get(via)?.refs().into_iter().next()?.address.clone();
    let source = plan.change(&r)?;
    let fresh = c.action == Action::Create || (calls(source) && changed(source, attr));
    fresh.then(|| source.after.as_ref()?.get(attr)?.as_str().map(str::to_string)).flatten()
}

/// The ids a value holds where its type refers to a kind, nested objects and lists
/// included: (kind, id).
fn nested_refs(ty: &Type, v: &Value, out: &mut Vec<(&'static str, String)>) {
    match (ty, v) {
        (Type::Ref(k), Value::Str(s)) => out.push((k, s.clone())),
        (Type::List(item) | Type::Set(item), Value::List(items)) => {
            items.iter().for_each(|i| nested_refs(item, i, out));
        }
        (Type::Object(o), Value::Map(m)) => {
            for a in o.attrs {
                if let Some(v) = m.get(a.name) {
                    nested_refs(&a.ty, v, out);
                }
            }
        }
        _ => {}
    }
}

/// What the plan asks of the account.
pub fn questions(plan: &Plan) -> Questions {
    let held: BTreeSet<&str> = plan.refreshed.iter().map(|r| r.id.as_str()).collect();
    let mut q = Questions::default();
    for c in plan.changes.iter().filter(|c| calls(c)) {
        let Some(after) = &c.after else { continue };
        let kind = c.address.kind;
        for a in kind.object.attrs.iter().filter(|a| a.settable() && !a.local && changed(c, a.name)) {
            let values = strings(after.get(a.name));
            if a.image {
                q.images.extend(values.iter().map(|v| (c.address.clone(), v.clone())));
            }
            let referred = match &a.ty {
                Type::Ref(k) => Some(*k),
                Type::List(Type::Ref(k)) | Type::Set(Type::Ref(k)) => Some(*k),
                _ => None,
            };
            if let (Some(k), true) = (referred, literal(c, a.name)) {
                for v in values.iter().filter(|v| v.as_str() != "self" && !held.contains(v.as_str())) {
                    q.objects.push((c.address.clone(), k, v.clone()));
                }
            }
            // Ids inside objects (a listener's certificates) of kinds that must be usable
            // first: those known now and not the stack's own are literal ones.
            if referred.is_none() {
                let mut inner = Vec::new();
                if let Some(v) = after.get(a.name) {
                    nested_refs(&a.ty, v, &mut inner);
                }
                let judged = |k: &str| trellis_core::kinds::get(k).is_some_and(|k| k.usable_when.is_some());
                for (k, id) in inner.into_iter().filter(|(k, id)| judged(k) && !held.contains(id.as_str())) {
                    q.usable.push((c.address.clone(), k, id));
                }
            }
        }
        if c.action == Action::Create {
            if let Some(n) = kind.generated_name.filter(|n| literal(c, n)) {
                if let Some(name) = after.get(n).and_then(Value::as_str) {
                    q.names.push((c.address.clone(), kind.name, name.to_string()));
                }
            }
        }
        if let Some(needs) = &kind.addresses {
            q.subnets.extend(strings(after.get(needs.subnets)).into_iter().filter(|s| !s.is_empty()));
            q.instance_types.extend(launched_type(plan, c, needs));
        }
        if let (Some(limit), Action::Create) = (kind.account_limit, c.action) {
            q.limits.push(limit);
        }
    }
    for list in [&mut q.subnets, &mut q.instance_types] {
        list.sort();
        list.dedup();
    }
    q.limits.sort();
    q.limits.dedup();
    q
}

/// The addresses a subnet the plan makes has free: its range, less AWS's five.
fn new_subnet_room(plan: &Plan, subnet: &Address) -> Option<i64> {
    let c = plan.change(subnet).filter(|c| c.action == Action::Create)?;
    let cidr = c.after.as_ref()?.get(c.address.kind.address_range?)?.as_str()?;
    let prefix: u32 = cidr.split_once('/')?.1.parse().ok()?;
    Some((1i64 << (32 - prefix.min(32))) - 5)
}

/// The checks, judged from the answers: each question, passed or failed, in words.
pub fn judge(plan: &Plan, q: &Questions, a: &Answers) -> Vec<Check> {
    let mut out = Vec::new();
    let check = |address: &Address, check: &str, ok: bool, detail: String| Check {
        address: address.clone(),
        check: check.to_string(),
        ok,
        detail,
    };
    for (address, image) in &q.images {
        let ok = a.images.contains(image);
        let detail =
            if ok { format!("image {image} exists") } else { format!("image {image} does not exist in this region") };
        out.push(check(address, "image", ok, detail));
    }
    for (address, kind, id) in &q.usable {
        let Some((_, _, shows)) = a.unusable.iter().find(|(k, i, _)| k == kind && i == id) else { continue };
        let (attr, want) = trellis_core::kinds::get(kind).and_then(|k| k.usable_when).unwrap_or(("state", "ready"));
        let detail = format!("{kind} `{id}` has {attr} {shows}, not {want}: AWS refuses to use it until it is");
        out.push(check(address, "usable", false, detail));
    }
    for (address, kind, id) in &q.objects {
        let ok = a.objects.iter().any(|(k, i)| k == kind && i == id);
        let detail = if ok {
            format!("{kind} `{id}` exists")
        } else {
            format!("{kind} `{id}` does not exist (and the stack does not make it)")
        };
        out.push(check(address, "exists", ok, detail));
    }
    for (address, kind, name) in &q.names {
        let taken = a.taken.iter().find(|(k, n, _)| k == kind && n == name);
        let detail = match taken {
            None => format!("the name `{name}` is free"),
            Some((_, _, id)) => format!("the name `{name}` is taken by {id}, which this stack's state does not hold"),
        };
        out.push(check(address, "name", taken.is_none(), detail));
    }
    let free: BTreeMap<&str, i64> = a.free_addresses.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    let zones: BTreeMap<&str, &str> = a.subnet_zones.iter().map(|(s, z)| (s.as_str(), z.as_str())).collect();
    // An instance type in every zone of its subnets (those read, and those the plan
    // makes with a zone).
    for c in plan.changes.iter().filter(|c| calls(c)) {
        let (Some(needs), Some(after)) = (&c.address.kind.addresses, &c.after) else { continue };
        let Some(ty) = launched_type(plan, c, needs) else { continue };
        let ty = ty.as_str();
        let mut in_zones: BTreeSet<String> = strings(after.get(needs.subnets))
            .iter()
            .filter_map(|s| zones.get(s.as_str()).map(|z| z.to_string()))
            .collect();
        let refs: Vec<Address> = c
            .config
            .as_ref()
            .and_then(|cfg| cfg.get(needs.subnets))
            .map(|e: &Expr| e.refs().into_iter().map(|r| r.address.clone()).collect())
            .unwrap_or_default();
        for r in refs {
            let zone = plan.change(&r).and_then(|s| Some((s.address.kind.zone?, s.after.as_ref()?)));
            if let Some(z) = zone.and_then(|(attr, attrs)| attrs.get(attr)?.as_str().map(str::to_string)) {
                in_zones.insert(z);
            }
        }
        for zone in in_zones {
            let ok = a.offered.iter().any(|(o, z)| o == ty && *z == zone);
            let detail = if ok {
                format!("{ty} is offered in {zone}")
            } else {
                format!("{ty} is not offered in {zone}, a zone of its subnets")
            };
            out.push(check(&c.address, "offered", ok, detail));
        }
    }
    // Account limits: what the account holds, plus what the plan makes.
    for (limit, max, used) in &a.limits {
        let made: Vec<&ResourceChange> = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Create && c.address.kind.account_limit == Some(limit.as_str()))
            .collect();
        let Some(first) = made.first() else { continue };
        let want = used + made.len() as i64;
        let ok = want <= *max;
        let detail = format!("{limit}: {used} held + {} new = {want}, the account's limit is {max}", made.len());
        out.push(check(&first.address, "limit", ok, detail));
    }
    for c in plan.changes.iter().filter(|c| calls(c)) {
        let (Some(needs), Some(after)) = (&c.address.kind.addresses, &c.after) else { continue };
        let want = needs.count.map_or(Some(1), |n| after.get(n).and_then(Value::as_int));
        let Some(want) = want else { continue };
        if c.action == Action::Update && !needs.count.is_some_and(|n| changed(c, n)) {
            continue;
        }
        // Subnets the account has (by id) and those the plan makes (through the reference
        // to them, whose range says their room); one of neither leaves the check out.
        let ids = strings(after.get(needs.subnets));
        let made: Vec<i64> = c
            .config
            .as_ref()
            .and_then(|cfg| cfg.get(needs.subnets))
            .map(|e: &Expr| e.refs().into_iter().filter_map(|r| new_subnet_room(plan, &r.address)).collect())
            .unwrap_or_default();
        if ids.iter().any(|id| !free.contains_key(id.as_str())) || (ids.is_empty() && made.is_empty()) {
            continue;
        }
        let room: i64 = ids.iter().map(|id| free[id.as_str()]).sum::<i64>() + made.iter().sum::<i64>();
        let ok = room >= want;
        let detail = format!(
            "{want} address{} needed, {room} free in its subnet{}",
            if want == 1 { "" } else { "es" },
            if strings(after.get(needs.subnets)).len() == 1 { "" } else { "s" }
        );
        out.push(check(&c.address, "addresses", ok, detail));
    }
    out
}
