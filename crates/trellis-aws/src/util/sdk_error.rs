//! An SDK error as trellis reports it (AWS's code and message, or trellis's own code for
//! what went wrong on the way), and the tests on codes every kind makes.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use trellis_core::ProviderError;

/// An SDK error as trellis reports it: AWS's code and message, or, when AWS gave no
/// answer to show, one of trellis's own codes for what went wrong on the way
/// (`NetworkError`, `RequestTimeout`, `UnreadableResponse`; `errors.rs` classes them).
pub(crate) fn aws_err<E>(e: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let detail = || aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
    let (code, message) = match (e.code(), e.message(), &e) {
        (Some(c), m, _) => (Some(c.to_string()), m.map(str::to_string).unwrap_or_default()),
        (None, _, SdkError::ServiceError(se)) => {
            let status = se.raw().status().as_u16();
            match status {
                // A success whose body could not be read as the answer.
                200..=299 => (
                    Some("UnreadableResponse".into()),
                    format!("the endpoint's answer (HTTP {status}) could not be read"),
                ),
                500.. => (
                    Some("InternalError".into()),
                    format!("the endpoint answered HTTP {status} with no AWS error in the body"),
                ),
                _ => (
                    Some("HttpError".into()),
                    format!("the endpoint answered HTTP {status} with no AWS error in the body"),
                ),
            }
        }
        (None, _, SdkError::TimeoutError(_)) => (Some("RequestTimeout".into()), "the request timed out".into()),
        (None, _, SdkError::DispatchFailure(_)) => {
            let more = if verbose() { format!(" ({})", detail()) } else { String::new() };
            (Some("NetworkError".into()), format!("could not reach the endpoint: {}{more}", root_cause(&e)))
        }
        (None, _, SdkError::ConstructionFailure(_)) => {
            let more = if verbose() { format!(" ({})", detail()) } else { String::new() };
            (Some("InvalidRequest".into()), format!("the request could not be built: {}{more}", root_cause(&e)))
        }
        (None, _, SdkError::ResponseError(_)) => {
            (Some("UnreadableResponse".into()), "the endpoint's answer could not be read".into())
        }
        (None, _, _) => (None, detail()),
    };
    ProviderError { code, message }
}

/// The innermost cause of an error: the part a person can act on ("Connection refused").
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Whether the SDK's own detail is wanted in messages (`TRELLIS_LOG=debug`, which
/// `--verbose` sets).
pub(crate) fn verbose() -> bool {
    std::env::var("TRELLIS_LOG").is_ok_and(|v| v.eq_ignore_ascii_case("debug"))
}

pub(crate) fn is_code(e: &ProviderError, codes: &[&str]) -> bool {
    e.code.as_deref().is_some_and(|c| crate::errors::matches(c, codes))
}

pub(crate) use crate::errors::NOT_FOUND;
