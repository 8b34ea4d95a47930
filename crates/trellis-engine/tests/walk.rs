//! The engine's walk, against an in-memory cloud written for these tests: the journal
//! is written before each call, a failure skips what depends on it while independent
//! branches finish, an interrupt starts nothing new, a create-before-destroy's old
//! object stays recorded (deposed) until its own delete succeeds, and protected data
//! loss is refused before any call. The end-to-end tests on moto stay the proof for AWS.

#[path = "../../trellis-plan/tests/support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use support::{addr, converged, run};
use tokio::sync::watch;
use trellis_core::{Address, Attrs, CreateError, LiveObject, Provider, ProviderError, RefreshRequest, RefreshResult};
use trellis_engine::{apply, ApplyOptions, EngineError, Op, OpKind, Report};
use trellis_plan::{Operation, Plan, PlanInput};
use trellis_state::{LocalStore, Pending, State, StateStore};

/// An in-memory cloud. Every call checks, first, that the state on disk journals it.
struct Memory {
    store: LocalStore,
    stack: String,
    objects: Mutex<BTreeMap<String, (Address, Attrs)>>,
    calls: Mutex<Vec<Op>>,
    /// Calls that were made without their journal entry on disk.
    unjournaled: Mutex<Vec<Op>>,
    /// The serial of the state document on disk at each call.
    serials: Mutex<BTreeSet<u64>>,
    /// Operations that fail, with AWS's code.
    fail: BTreeSet<(OpKind, Address)>,
    /// Set on the first call: the user presses Ctrl-C while it runs.
    interrupt: Option<watch::Sender<bool>>,
    /// What the state on disk held when each delete was called.
    at_delete: Mutex<Vec<State>>,
    /// Ids whose trellis tags were removed (forgotten objects).
    untagged: Mutex<BTreeSet<String>>,
    /// Each `set_together` call: `address=value` of each object.
    together: Mutex<Vec<String>>,
    next_id: Mutex<u32>,
}

impl Memory {
    fn new(store: LocalStore, stack: &str) -> Memory {
        Memory {
            store,
            stack: stack.into(),
            objects: Mutex::default(),
            calls: Mutex::default(),
            unjournaled: Mutex::default(),
            serials: Mutex::default(),
            fail: BTreeSet::new(),
            interrupt: None,
            at_delete: Mutex::default(),
            untagged: Mutex::default(),
            together: Mutex::default(),
            next_id: Mutex::new(0),
        }
    }

    fn called(&self, kind: OpKind, address: &Address) -> Result<(), ProviderError> {
        let op = Op { address: address.clone(), kind };
        let on_disk = self.store.read(&self.stack).unwrap().unwrap();
        let document: State = serde_json::from_str(&std::fs::read_to_string(self.store.path()).unwrap()).unwrap();
        self.serials.lock().unwrap().insert(document.serial);
        if !on_disk.pending.contains(&Pending { address: address.clone(), operation: kind }) {
            self.unjournaled.lock().unwrap().push(op.clone());
        }
        if matches!(kind, OpKind::Delete | OpKind::Forget) {
            self.at_delete.lock().unwrap().push(on_disk);
        }
        self.calls.lock().unwrap().push(op);
        if let Some(tx) = &self.interrupt {
            tx.send_replace(true);
        }
        if self.fail.contains(&(kind, address.clone())) {
            return Err(ProviderError::new(Some("InvalidParameterValue"), format!("{kind} {address} refused")));
        }
        Ok(())
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().iter().map(ToString::to_string).collect()
    }

    /// Refuses, as AWS does, an object of a kind with ordered values (`Kind::unique`)
    /// that would take a value a sibling under its parent holds; `moving` are the ids
    /// whose values change in the same call.
    fn check_unique(&self, address: &Address, attrs: &Attrs, moving: &[String]) -> Result<(), ProviderError> {
        let Some(u) = address.kind.unique else { return Ok(()) };
        let objects = self.objects.lock().unwrap();
        let held = objects.iter().any(|(id, (a, other))| {
            a.kind == address.kind
                && !moving.contains(id)
                && other.get(u.among) == attrs.get(u.among)
                && other.get(u.attr) == attrs.get(u.attr)
        });
        match held {
            true => Err(ProviderError::new(Some("PriorityInUse"), format!("{address}: `{}` is taken", u.attr))),
            false => Ok(()),
        }
    }
}

impl Provider for Memory {
    async fn refresh(&self, _req: RefreshRequest) -> Result<RefreshResult, ProviderError> {
        unreachable!("the engine never refreshes")
    }

    async fn create(
        &self,
        _stack: &str,
        address: &Address,
        attrs: &Attrs,
        _replacing: &[String],
    ) -> Result<LiveObject, CreateError> {
        self.called(OpKind::Create, address)?;
        self.check_unique(address, attrs, &[])?;
        let n = {
            let mut n = self.next_id.lock().unwrap();
            *n += 1;
            *n
        };
        let id = format!("{}-new{n}", address.name);
        let mut attrs = attrs.clone();
        attrs.insert("id".into(), trellis_core::Value::str(&id));
        self.objects.lock().unwrap().insert(id.clone(), (address.clone(), attrs.clone()));
        Ok(LiveObject { address: address.clone(), id, attrs })
    }

    async fn update(
        &self,
        _stack: &str,
        address: &Address,
        id: &str,
        before: &Attrs,
        after: &Attrs,
    ) -> Result<LiveObject, ProviderError> {
        self.called(OpKind::Update, address)?;
        let mut attrs = before.clone();
        attrs.extend(after.clone());
        if address.kind.unique.is_some_and(|u| before.get(u.attr) != after.get(u.attr)) {
            self.check_unique(address, &attrs, &[id.to_string()])?;
        }
        self.objects.lock().unwrap().insert(id.into(), (address.clone(), attrs.clone()));
        Ok(LiveObject { address: address.clone(), id: id.into(), attrs })
    }

    async fn retag(
        &self,
        _stack: &str,
        address: &Address,
        id: &str,
        attrs: &Attrs,
        managed: bool,
    ) -> Result<(), ProviderError> {
        self.called(if managed { OpKind::Retag } else { OpKind::Forget }, address)?;
        let mut objects = self.objects.lock().unwrap();
        let entry = objects.entry(id.into()).or_insert_with(|| (address.clone(), attrs.clone()));
        match managed {
            true => entry.0 = address.clone(),
            false => {
                self.untagged.lock().unwrap().insert(id.into());
            }
        }
        Ok(())
    }

    async fn set_together(
        &self,
        kind: &'static trellis_core::schema::Kind,
        attr: &str,
        objects: &[(Address, String, trellis_core::Value)],
    ) -> Result<(), ProviderError> {
        let names: Vec<String> = objects.iter().map(|(a, _, v)| format!("{a}={v}")).collect();
        self.together.lock().unwrap().push(names.join(","));
        let ids: Vec<String> = objects.iter().map(|(_, id, _)| id.clone()).collect();
        for (address, id, value) in objects {
            let mut attrs = self.objects.lock().unwrap().get(id).map(|(_, a)| a.clone()).unwrap_or_default();
            attrs.insert(attr.to_string(), value.clone());
            assert_eq!(address.kind, kind);
            self.check_unique(address, &attrs, &ids)?;
        }
        let mut all = self.objects.lock().unwrap();
        for (_, id, value) in objects {
            if let Some((_, a)) = all.get_mut(id) {
                a.insert(attr.to_string(), value.clone());
            }
        }
        self.calls.lock().unwrap().push(Op { address: objects[0].0.clone(), kind: OpKind::Update });
        Ok(())
    }

    async fn delete(&self, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        self.called(OpKind::Delete, address)?;
        self.objects.lock().unwrap().remove(id);
        Ok(())
    }
}

/// A state file in a temporary directory holding `state`, and its lock.
fn stored(dir: &tempfile::TempDir, state: &State) -> (LocalStore, trellis_state::StateLock) {
    let store = LocalStore::new(dir.path().join("web.json"));
    let lock = store.lock("apply").unwrap();
    let mut st = state.clone();
    store.write(&lock, &mut st).unwrap();
    (store, lock)
}

async fn walk(
    cloud: Arc<Memory>,
    plan: &Plan,
    state: State,
    opts: ApplyOptions,
) -> Result<(Report, State), EngineError> {
    let store = cloud.store.clone();
    let lock = store.lock("apply").unwrap();
    apply(cloud, plan, &store, &lock, state, opts, |_| {}).await
}

const TWO_BRANCHES: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  vpc.other:
    cidr_block: 10.1.0.0/16
  subnet.b:
    vpc_id: ${vpc.other}
    cidr_block: 10.1.1.0/24
"#;

fn ops(report: &[Op]) -> Vec<String> {
    report.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn every_call_is_journaled_first_and_the_journal_is_empty_after() {
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &State::new("web"));
    drop(lock);
    let cloud = Arc::new(Memory::new(store, "web"));
    let plan = run(TWO_BRANCHES, None);
    let (report, state) = walk(cloud.clone(), &plan, State::new("web"), ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.created, 4);
    assert_eq!(cloud.calls().len(), 4);
    assert!(cloud.unjournaled.lock().unwrap().is_empty(), "calls without a journal entry: {:?}", cloud.unjournaled);
    // The steps went to the journal: the document was written at the start and the end.
    assert_eq!(*cloud.serials.lock().unwrap(), BTreeSet::from([1]));
    assert_eq!(state.serial, 2);
    assert_eq!(std::fs::read_to_string(cloud.store.journal_path()).unwrap(), "", "folded at the end");
    let on_disk = cloud.store.read("web").unwrap().unwrap();
    assert!(on_disk.pending.is_empty(), "the journal is cleared as outcomes are recorded");
    assert_eq!(on_disk.resources, state.resources);
    // A subnet is created with the id its vpc got.
    let vpc = state.get(&addr("vpc.main")).unwrap().id.clone();
    let subnet = state.get(&addr("subnet.a")).unwrap();
    assert_eq!(subnet.attributes["vpc_id"], trellis_core::Value::str(&vpc));
}

#[tokio::test]
async fn a_failure_skips_its_dependents_and_independent_branches_finish() {
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &State::new("web"));
    drop(lock);
    let mut memory = Memory::new(store, "web");
    memory.fail.insert((OpKind::Create, addr("vpc.main")));
    let cloud = Arc::new(memory);
    let plan = run(TWO_BRANCHES, None);
    let (report, state) = walk(cloud.clone(), &plan, State::new("web"), ApplyOptions::default()).await.unwrap();
    assert!(!report.ok());
    assert_eq!(ops(&report.failures.iter().map(|f| f.op.clone()).collect::<Vec<_>>()), ["create vpc.main"]);
    assert_eq!(report.failures[0].error.code.as_deref(), Some("InvalidParameterValue"));
    assert_eq!(ops(&report.skipped), ["create subnet.a"]);
    assert_eq!(report.created, 2);
    let mut calls = cloud.calls();
    calls.sort();
    assert_eq!(calls, ["create subnet.b", "create vpc.main", "create vpc.other"], "subnet.a is never attempted");
    let recorded: Vec<String> = state.resources.iter().map(|r| r.address.to_string()).collect();
    assert_eq!(recorded, ["subnet.b", "vpc.other"]);
    assert!(cloud.store.read("web").unwrap().unwrap().pending.is_empty());
}

#[tokio::test]
async fn an_interrupt_starts_nothing_new_and_records_what_was_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &State::new("web"));
    drop(lock);
    let (tx, rx) = watch::channel(false);
    let mut memory = Memory::new(store, "web");
    memory.interrupt = Some(tx);
    let cloud = Arc::new(memory);
    let plan = run(TWO_BRANCHES, None);
    let opts = ApplyOptions { parallelism: 1, interrupt: Some(rx), ..ApplyOptions::default() };
    let (report, state) = walk(cloud.clone(), &plan, State::new("web"), opts).await.unwrap();
    assert!(report.interrupted);
    assert_eq!(cloud.calls().len(), 1, "only the operation in flight ran: {:?}", cloud.calls());
    assert_eq!(report.created, 1);
    assert_eq!(state.resources.len(), 1, "what was in flight is recorded");
    assert_eq!(report.not_started.len(), 3, "{:?}", ops(&report.not_started));
    assert!(cloud.store.read("web").unwrap().unwrap().pending.is_empty());
}

const TARGET_GROUP: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  target_group.web:
    port: 8080
    vpc_id: ${vpc.main}
"#;

#[tokio::test]
async fn the_old_object_of_a_create_before_destroy_stays_deposed_until_its_delete_succeeds() {
    let before = converged(TARGET_GROUP);
    let old_id = before.get(&addr("target_group.web")).unwrap().id.clone();
    let plan = run(&TARGET_GROUP.replace("port: 8080", "port: 9090"), Some(&before));
    let deposed = addr("target_group.web__deposed_web1");

    // The delete of the old object fails: both objects stay in the state.
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let mut memory = Memory::new(store, "web");
    memory.fail.insert((OpKind::Delete, deposed.clone()));
    let cloud = Arc::new(memory);
    let (report, state) = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await.unwrap();
    assert_eq!(cloud.calls(), ["create target_group.web", "delete target_group.web__deposed_web1"]);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(state.get(&deposed).map(|r| r.id.as_str()), Some(old_id.as_str()), "the old object is kept");
    assert_ne!(state.get(&addr("target_group.web")).unwrap().id, old_id, "the address holds the new object");
    assert_eq!(cloud.store.read("web").unwrap().unwrap().resources, state.resources);

    // When the delete succeeds, the state recorded the old object as deposed while it
    // ran, and no longer does.
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let cloud = Arc::new(Memory::new(store, "web"));
    let (report, state) = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{report:?}");
    let during = cloud.at_delete.lock().unwrap()[0].clone();
    assert_eq!(during.get(&deposed).map(|r| r.id.as_str()), Some(old_id.as_str()));
    assert!(state.get(&deposed).is_none());
    assert_eq!(state.resources.len(), 2);
}

#[tokio::test]
async fn protected_data_loss_is_refused_before_any_call() {
    let spec = "stack: web\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    let mut before = converged(spec);
    let db = addr("db_instance.main");
    let mut attrs = Attrs::new();
    attrs.insert("db_instance_identifier".into(), trellis_core::Value::str("web-main"));
    before.upsert(trellis_state::ResourceState {
        address: db.clone(),
        id: "web-main".into(),
        attributes: attrs,
        dependencies: vec![],
        sensitive: vec![],
    });
    let live: BTreeMap<Address, LiveObject> = before
        .resources
        .iter()
        .map(|r| {
            (
                r.address.clone(),
                LiveObject { address: r.address.clone(), id: r.id.clone(), attrs: r.attributes.clone() },
            )
        })
        .collect();
    let plan = trellis_plan::plan(PlanInput {
        spec: &support::spec(spec),
        prior: Some(&before),
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation: Operation::Destroy,
        targets: &[],
        replace: &[],
        env: &|_| None,
    })
    .unwrap();
    assert!(plan.change(&db).unwrap().data_loss.as_ref().unwrap().protected);

    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let cloud = Arc::new(Memory::new(store, "web"));
    let refused = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await;
    assert!(matches!(&refused, Err(EngineError::DataLoss(a)) if a == std::slice::from_ref(&db)), "{refused:?}");
    assert!(cloud.calls().is_empty(), "nothing was called: {:?}", cloud.calls());
    assert_eq!(cloud.store.read("web").unwrap().unwrap().resources, before.resources, "nor the state written");

    // With consent, both go.
    let opts = ApplyOptions { allow_data_loss: true, ..ApplyOptions::default() };
    let (report, state) = walk(cloud.clone(), &plan, before, opts).await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.deleted, 2);
    assert!(state.resources.is_empty());
}

/// `TWO_BRANCHES` with `subnet.a` renamed `subnet.first` (and moved), `subnet.b` gone
/// from the spec and `removed:`.
fn refactored() -> String {
    TWO_BRANCHES
        .replace("subnet.a:", "subnet.first:")
        .replace("  subnet.b:\n    vpc_id: ${vpc.other}\n    cidr_block: 10.1.1.0/24\n", "")
        + "moved:\n  - from: subnet.a\n    to: subnet.first\nremoved:\n  - from: subnet.b\n"
}

#[tokio::test]
async fn a_move_retags_after_its_update_and_a_forget_untags_before_the_record_goes() {
    let before = converged(TWO_BRANCHES);
    let (moved_id, forgotten_id) =
        (before.get(&addr("subnet.a")).unwrap().id.clone(), before.get(&addr("subnet.b")).unwrap().id.clone());
    let plan = run(&refactored(), Some(&before));
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let cloud = Arc::new(Memory::new(store, "web"));
    let (report, state) = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{report:?}");
    let calls = cloud.calls();
    // Its `Name` tag follows the new address (an update), then trellis's tag.
    let update = calls.iter().position(|c| c == "update subnet.first").expect("the Name tag is updated");
    let retag = calls.iter().position(|c| c == "retag subnet.first").expect("the address tag is rewritten");
    assert!(update < retag, "{calls:?}");
    assert!(calls.contains(&"forget subnet.b".to_string()), "{calls:?}");
    assert!(!calls.iter().any(|c| c.starts_with("create") || c.starts_with("delete")), "{calls:?}");
    assert!(cloud.unjournaled.lock().unwrap().is_empty());
    assert_eq!((report.retagged, report.forgotten, report.deleted), (1, 1, 0));
    assert_eq!(state.get(&addr("subnet.first")).map(|r| r.id.as_str()), Some(moved_id.as_str()));
    assert!(state.get(&addr("subnet.a")).is_none() && state.get(&addr("subnet.b")).is_none());
    assert_eq!(cloud.objects.lock().unwrap()[&moved_id].0, addr("subnet.first"));
    assert!(cloud.untagged.lock().unwrap().contains(&forgotten_id));
    // While its tags were being removed, the state still recorded the forgotten object.
    let during = cloud.at_delete.lock().unwrap()[0].clone();
    assert!(during.get(&addr("subnet.b")).is_some());
    assert_eq!(cloud.store.read("web").unwrap().unwrap().resources, state.resources);

    // A forget that fails keeps the object recorded: the next run forgets it again.
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let mut memory = Memory::new(store, "web");
    memory.fail.insert((OpKind::Forget, addr("subnet.b")));
    let cloud = Arc::new(memory);
    let (report, state) = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await.unwrap();
    assert_eq!(ops(&report.failures.iter().map(|f| f.op.clone()).collect::<Vec<_>>()), ["forget subnet.b"]);
    assert_eq!(state.get(&addr("subnet.b")).map(|r| r.id.as_str()), Some(forgotten_id.as_str()));
    let again = run(&refactored(), Some(&state));
    assert_eq!(again.change(&addr("subnet.b")).map(|c| c.action), Some(trellis_plan::Action::Forget));
}

#[tokio::test]
async fn a_protected_object_of_any_kind_is_refused_before_any_call_even_once_its_block_is_gone() {
    let spec = "stack: web\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n    protect: true\n  subnet.a:\n    vpc_id: ${vpc.main}\n    cidr_block: 10.0.1.0/24\n";
    let before = converged(spec);
    // The spec no longer has either: the VPC's protection comes from the state.
    let plan = support::plan_edited("stack: web\nresources: {}\n", &before, Operation::Apply, &[], |_| {});
    let vpc = addr("vpc.main");
    assert!(plan.change(&vpc).unwrap().protected);

    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let cloud = Arc::new(Memory::new(store, "web"));
    let refused = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await;
    assert!(matches!(&refused, Err(EngineError::DataLoss(a)) if a == std::slice::from_ref(&vpc)), "{refused:?}");
    assert!(cloud.calls().is_empty(), "nothing was called: {:?}", cloud.calls());

    let opts = ApplyOptions { allow_data_loss: true, ..ApplyOptions::default() };
    let (report, state) = walk(cloud.clone(), &plan, before, opts).await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.deleted, 2);
    assert!(state.resources.is_empty());
}

/// Two rules of one listener, and the objects a memory cloud holds for `state`.
const RULES: &str = r#"stack: web
resources:
  listener_rule.a:
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2
    priority: 10
    conditions: [{ field: path-pattern, path_pattern_config: { values: ["/a/*"] } }]
    actions: [{ type: fixed-response, fixed_response_config: { status_code: "200" } }]
  listener_rule.b:
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2
    priority: 20
    conditions: [{ field: path-pattern, path_pattern_config: { values: ["/b/*"] } }]
    actions: [{ type: fixed-response, fixed_response_config: { status_code: "200" } }]
"#;

fn seeded(store: LocalStore, state: &State) -> Memory {
    let memory = Memory::new(store, "web");
    for r in &state.resources {
        memory.objects.lock().unwrap().insert(r.id.clone(), (r.address.clone(), r.attributes.clone()));
    }
    memory
}

fn priority(state: &State, address: &str) -> Option<i64> {
    state.get(&addr(address))?.attributes.get("priority")?.as_int()
}

#[tokio::test]
async fn rules_that_swap_priorities_are_moved_together_in_one_call() {
    let before = converged(RULES);
    let swapped =
        RULES.replace("priority: 10", "priority: 1x").replace("priority: 20", "priority: 10").replace("1x", "20");
    let plan = run(&swapped, Some(&before));
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let cloud = Arc::new(seeded(store, &before));
    let (report, state) = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.updated, 2);
    assert_eq!(*cloud.together.lock().unwrap(), vec!["listener_rule.a=20,listener_rule.b=10".to_string()]);
    assert_eq!((priority(&state, "listener_rule.a"), priority(&state, "listener_rule.b")), (Some(20), Some(10)));
}

#[tokio::test]
async fn a_freed_priority_is_taken_only_after_it_is_freed() {
    // `a` (10) goes, `b` moves from 20 to 10, and a new `c` takes 20: the delete, the
    // move and the create must run in that order, whatever the parallelism.
    let before = converged(RULES);
    let (_, rest) = RULES.split_once("  listener_rule.b:").unwrap();
    let b = format!("  listener_rule.b:{}", rest.replace("priority: 20", "priority: 10"));
    let c = format!("  listener_rule.c:{}", rest.replace("/b/*", "/c/*"));
    let spec = format!("stack: web\nresources:\n{b}{c}");
    let plan = run(&spec, Some(&before));
    let dir = tempfile::tempdir().unwrap();
    let (store, lock) = stored(&dir, &before);
    drop(lock);
    let cloud = Arc::new(seeded(store, &before));
    let (report, state) = walk(cloud.clone(), &plan, before.clone(), ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{report:?}\ncalls: {:?}", cloud.calls());
    assert_eq!((report.created, report.updated, report.deleted), (1, 1, 1));
    let calls = cloud.calls();
    let at = |s: &str| calls.iter().position(|c| c == s).unwrap_or_else(|| panic!("no {s} in {calls:?}"));
    assert!(at("delete listener_rule.a") < at("update listener_rule.b"), "{calls:?}");
    assert!(at("update listener_rule.b") < at("create listener_rule.c"), "{calls:?}");
    assert_eq!((priority(&state, "listener_rule.b"), priority(&state, "listener_rule.c")), (Some(10), Some(20)));
}
