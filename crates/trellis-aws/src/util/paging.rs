//! Which objects a describe asks for (`Select`), and reading every page of a paginated
//! describe with a rate-limit token per page.

use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::Filter;
use aws_smithy_async::future::pagination_stream::PaginationStream;
use trellis_core::ProviderError;

use super::aws_err;
use crate::aws::Aws;
use crate::limits::Call;
use crate::TAG_STACK;

/// Which objects a describe call asks for.
#[derive(Clone, Copy)]
pub(crate) enum Select<'a> {
    /// Everything tagged with this stack.
    Stack(&'a str),
    /// These ids (through a filter, so a missing id is simply absent).
    Ids(&'a [String]),
}

impl Select<'_> {
    /// Whether an object with these tags is one this selection asks for, where the
    /// service could not filter by tag: any for ids, the stack's for a stack.
    pub fn keeps(&self, tags: &std::collections::BTreeMap<String, String>) -> bool {
        match self {
            Select::Stack(stack) => tags.get(TAG_STACK).map(String::as_str) == Some(*stack),
            Select::Ids(_) => true,
        }
    }

    /// The filter for this selection; `id_filter` is the kind's id filter name.
    pub fn filter(&self, id_filter: &str) -> Filter {
        match self {
            Select::Stack(stack) => Filter::builder().name(format!("tag:{TAG_STACK}")).values(*stack).build(),
            Select::Ids(ids) => Filter::builder().name(id_filter).set_values(Some(ids.to_vec())).build(),
        }
    }
}

/// Every page of a paginated EC2 describe, each page drawing a describe token.
pub(crate) async fn pages<O, E>(
    aws: &Aws,
    stream: PaginationStream<Result<O, SdkError<E, HttpResponse>>>,
) -> Result<Vec<O>, ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    pages_with(aws, Call::Describe, stream).await
}

/// Every page of a paginated read, each page drawing a token of `class`.
pub(crate) async fn pages_with<O, E>(
    aws: &Aws,
    class: Call,
    mut stream: PaginationStream<Result<O, SdkError<E, HttpResponse>>>,
) -> Result<Vec<O>, ProviderError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let mut out = Vec::new();
    loop {
        // The token is taken before each poll; the call is counted only when a page came,
        // since the poll after the last page makes no request.
        aws.limits.take(class).await;
        match stream.next().await {
            Some(page) => {
                aws.count_call();
                out.push(page.map_err(aws_err)?)
            }
            None => return Ok(out),
        }
    }
}
