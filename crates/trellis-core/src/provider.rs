use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use crate::{Address, Attrs, Value};

/// An error from the cloud, as the cloud said it: its error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub code: Option<String>,
    pub message: String,
}

impl ProviderError {
    pub fn new(code: Option<&str>, message: impl Into<String>) -> Self {
        ProviderError { code: code.map(str::to_string), message: message.into() }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ProviderError {}

/// A create that failed. When the object itself was made before the failure (say a
/// security group whose rule AWS then rejected), `created` carries its id and what is
/// known of it, so the caller can record it in the state before reporting the error.
#[derive(Debug, Clone)]
pub struct CreateError {
    pub created: Option<LiveObject>,
    pub error: ProviderError,
}

impl From<ProviderError> for CreateError {
    fn from(error: ProviderError) -> Self {
        CreateError { created: None, error }
    }
}

/// One object as the cloud reports it, in the attribute shape of its kind's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveObject {
    pub address: Address,
    pub id: String,
    pub attrs: Attrs,
}

/// What to read during a refresh: every object of these kinds tagged with the stack,
/// plus the objects the state knows by id (found even if their tags were removed).
#[derive(Debug, Clone)]
pub struct RefreshRequest {
    pub stack: String,
    pub kinds: Vec<&'static crate::schema::Kind>,
    pub known: Vec<(Address, String)>,
    /// Read only the `known` objects, by id (no tag-filtered read of whole kinds).
    pub by_id_only: bool,
}

#[derive(Debug, Clone, Default)]
pub struct RefreshResult {
    /// Objects of the request's `known` list that still exist, by address.
    pub found: BTreeMap<Address, LiveObject>,
    /// Objects tagged with the stack whose id no state knows (left by a crash, or by
    /// another copy of the state). The address is the one their tag names.
    pub orphans: Vec<LiveObject>,
    /// For the objects of `found` that carry a `trellis:address` tag, the address it
    /// names (the planner rewrites a tag that names another address: a moved object).
    pub tagged: BTreeMap<Address, Address>,
}

/// What the engine needs from a cloud. Implemented by `trellis-aws`; every method is
/// keyed by the resource address so errors can name it.
pub trait Provider: Send + Sync + 'static {
    fn refresh(&self, req: RefreshRequest) -> impl Future<Output = Result<RefreshResult, ProviderError>> + Send;

    /// Creates the object, waits until it is usable, and returns it as read back.
    /// `replacing` names the objects already recorded at this address (the one a
    /// replacement supersedes): a provider that looks for the result of a create whose
    /// answer was lost never takes one of them for the new object.
    fn create(
        &self,
        stack: &str,
        address: &Address,
        attrs: &Attrs,
        replacing: &[String],
    ) -> impl Future<Output = Result<LiveObject, CreateError>> + Send;

    /// Changes a live object in place from `before` to `after`, returns it as read back.
    fn update(
        &self,
        stack: &str,
        address: &Address,
        id: &str,
        before: &Attrs,
        after: &Attrs,
    ) -> impl Future<Output = Result<LiveObject, ProviderError>> + Send;

    /// Rewrites trellis's own tags on an object: with `managed`, `trellis:stack` and
    /// `trellis:address` name `stack` and `address` (an object that moved to it);
    /// without, both are removed (the object leaves management and is no orphan later).
    /// Kinds that carry no tags do nothing.
    fn retag(
        &self,
        stack: &str,
        address: &Address,
        id: &str,
        attrs: &Attrs,
        managed: bool,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// Sets `attr` of several objects of `kind` in one step, each `(address, id, new
    /// value)`, where the kind's objects under one parent hold distinct values of it
    /// (`Kind::unique`): the new values may be each other's old ones (two rules that
    /// swap priorities).
    fn set_together(
        &self,
        kind: &'static crate::schema::Kind,
        attr: &str,
        objects: &[(Address, String, Value)],
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;

    /// Deletes the object; an object that is already gone counts as deleted.
    fn delete(
        &self,
        address: &Address,
        id: &str,
        attrs: &Attrs,
    ) -> impl Future<Output = Result<(), ProviderError>> + Send;
}
