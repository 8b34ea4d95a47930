//! Vocabulary shared by every trellis crate: resource addresses, attribute values,
//! the schema of each resource kind, and the contract a cloud provider fulfils.
//!
//! Nothing here does IO. The planner depends on this crate and must stay pure.

mod address;
mod expr;
pub mod kinds;
pub mod lookup;
pub mod names;
pub mod preflight;
mod provider;
pub mod schema;
pub mod secret;
mod value;

pub use address::{
    component_path_text, valid_key, valid_name, Address, AddressError, ComponentPath, ComponentStep, InstanceKey,
    DEPOSED,
};
pub use expr::{Expr, Part, Ref};
pub use lookup::{LookupAddress, LookupKind, LookupQuery};
pub use provider::{CreateError, LiveObject, Provider, ProviderError, RefreshRequest, RefreshResult};
pub use value::{Attrs, Value};
