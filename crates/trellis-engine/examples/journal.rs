//! What an apply writes to its state, as the stack grows: the generated network stack
//! of N resources is planned against an empty state and applied through a cloud that
//! answers at once (in memory), with the state in a local file. One line a size:
//! `resources operations bytes syncs state_bytes apply_ms`: bytes written and fsyncs
//! over the whole apply (the journal's entries, the full writes at the start and end of
//! the run and when the journal grew as large as the state, the `.backup` copies), and
//! the size of the final state document.
//!
//! `cargo run --release -p trellis-engine --example journal -- 100 1000 10000`;
//! `cargo xtask bench journal` runs it for docs/benchmarks.md.

#[path = "../../trellis-plan/examples/support/network.rs"]
mod network;
#[path = "../../trellis-plan/tests/support/mod.rs"]
mod plans;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use trellis_core::{Address, Attrs, CreateError, LiveObject, Provider, ProviderError, RefreshRequest, RefreshResult};
use trellis_engine::{apply, ApplyOptions};
use trellis_state::{LocalStore, State, StateStore};

/// A cloud that does everything at once and gives back what it was sent.
struct AtOnce {
    next: AtomicU64,
}

impl Provider for AtOnce {
    async fn refresh(&self, _req: RefreshRequest) -> Result<RefreshResult, ProviderError> {
        Err(ProviderError::new(None, "the engine never refreshes"))
    }

    async fn create(
        &self,
        _stack: &str,
        address: &Address,
        attrs: &Attrs,
        _replacing: &[String],
    ) -> Result<LiveObject, CreateError> {
        let id = format!("{}-{:08x}", address.kind.name, self.next.fetch_add(1, Ordering::Relaxed));
        let mut attrs = attrs.clone();
        attrs.insert("id".into(), trellis_core::Value::str(&id));
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
        let mut attrs = before.clone();
        attrs.extend(after.clone());
        Ok(LiveObject { address: address.clone(), id: id.into(), attrs })
    }

    async fn retag(&self, _: &str, _: &Address, _: &str, _: &Attrs, _: bool) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn set_together(
        &self,
        _: &'static trellis_core::schema::Kind,
        _: &str,
        _: &[(Address, String, trellis_core::Value)],
    ) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn delete(&self, _address: &Address, _id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        Ok(())
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    for n in if sizes.is_empty() { vec![100, 1000] } else { sizes } {
        let text = network::spec(n);
        let spec = network::load("journal.yaml", text);
        let planned = plans::run_spec(&spec, None);
        // On the disk the state would be on, not in a memory file system: fsyncs count.
        let dir = tempfile::tempdir_in(std::env::current_dir().expect("a working directory")).expect("a directory");
        let store = LocalStore::new(dir.path().join("scale.json"));
        let lock = store.lock("apply").expect("the lock");
        let cloud = Arc::new(AtOnce { next: AtomicU64::new(0) });
        let started = Instant::now();
        let (report, state) = runtime
            .block_on(apply(cloud, &planned, &store, &lock, State::new("scale"), ApplyOptions::default(), |_| {}))
            .expect("the apply runs");
        let took = started.elapsed();
        assert!(report.ok() && report.created == spec.resources.len(), "{:?}", report.failures);
        let on_disk = store.read("scale").expect("the state reads").expect("a state");
        assert_eq!(on_disk.resources, state.resources, "the state on disk is the one applied");
        let document = std::fs::metadata(store.path()).map(|m| m.len()).unwrap_or(0);
        println!(
            "{} {} {} {} {} {:.0}",
            spec.resources.len(),
            report.created,
            store.io_counts().bytes(),
            store.io_counts().syncs(),
            document,
            took.as_secs_f64() * 1000.0
        );
    }
}
