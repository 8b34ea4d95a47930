//! AWS names trellis makes up for objects whose spec leaves the name out.

use std::future::Future;

use trellis_core::{Address, Attrs, ProviderError};

use super::str_attr;

/// A name trellis makes up for an object whose spec leaves the name out
/// (`trellis_core::names`); `suffix` adds a few random hex digits for when the plain
/// name is taken (a replacement made before the old goes).
pub(crate) fn generated_name(stack: &str, address: &Address, max: usize, suffix: bool) -> String {
    let tail = if suffix {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        format!("-{:04x}", (nanos ^ (nanos >> 16)) & 0xffff)
    } else {
        String::new()
    };
    trellis_core::names::generated_name(stack, address, max, &tail)
}

/// Creates through `f(name)`, with the name from the spec or a generated one (with a
/// suffix when the create loop asks for one: the plain name is held by the object being
/// replaced). Returns what `f` returned.
pub(crate) async fn create_named<T, F, Fut>(c: &Create<'_>, name_attr: &str, f: F) -> Result<T, ProviderError>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    // The schema says how long a name AWS takes.
    let max = c.address.kind.attr(name_attr).and_then(|a| a.max_len).unwrap_or(255);
    match str_attr(c.attrs, name_attr) {
        Some(name) => f(name.to_string()).await,
        None => f(generated_name(c.stack, c.address, max, c.suffix)).await,
    }
}

/// What a kind's create call is given.
pub(crate) struct Create<'a> {
    pub stack: &'a str,
    pub address: &'a Address,
    pub attrs: &'a Attrs,
    /// This create's idempotency token, the same on every attempt, for the calls that
    /// take one (`ClientToken`).
    pub token: &'a str,
    /// Make a generated name unique with a suffix: the plain one is taken by an object
    /// that is not this create's (the one being replaced).
    pub suffix: bool,
}
