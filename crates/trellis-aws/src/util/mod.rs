//! Helpers every kind's AWS module shares, one module per role: SDK errors as trellis
//! reports them (`sdk_error`), selections and paging (`paging`), waits and delete
//! retries (`waits`), tags and objects read back (`tags`), generated names (`names`),
//! reading attributes (`attrs`) and the spec-to-AWS codecs (`codecs`). Everything is
//! re-exported here, so a kind imports `crate::util::...` whatever module holds it.

mod attrs;
mod codecs;
mod names;
mod paging;
mod sdk_error;
mod tags;
mod waits;

pub(crate) use attrs::*;
pub(crate) use codecs::*;
pub(crate) use names::*;
pub(crate) use paging::*;
pub(crate) use sdk_error::*;
pub(crate) use tags::*;
pub(crate) use waits::*;
