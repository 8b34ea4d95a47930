//! The only crate that talks to AWS. It implements [`trellis_core::Provider`] for the
//! resource kinds of `trellis_core::kinds`: batched, tag-filtered refresh; create,
//! update and delete per kind, with waits for readiness and retries where AWS is
//! eventually consistent.
//!
//! Architecture invariant: AWS SDK types never leave this crate. Live objects come out
//! as `trellis_core::Attrs` in the shape of the kind's schema, errors as
//! `ProviderError { code, message }`.

mod aws;
mod client;
mod discover;
mod errors;
mod kinds;
mod limits;
mod lookups;
mod preflight;
mod progress;
mod provider;
mod s3state;
mod service;
mod util;

pub(crate) use aws::Clients;
pub use aws::{Aws, Timeouts};
pub use client::{connect, AwsOptions};
pub use discover::{found_by, owned_by_aws};
pub use errors::RetryStats;
pub use kinds::{Found, FoundBy};
pub use progress::{Event, Progress, RefreshStep, Until};
pub use s3state::{S3Options, S3Store};

/// The AWS SDKs trellis uses, for tests that change objects behind trellis's back.
pub mod sdk {
    pub use aws_sdk_acm as acm;
    pub use aws_sdk_autoscaling as autoscaling;
    pub use aws_sdk_cloudwatch as cloudwatch;
    pub use aws_sdk_cloudwatchlogs as logs;
    pub use aws_sdk_ec2 as ec2;
    pub use aws_sdk_efs as efs;
    pub use aws_sdk_elasticloadbalancingv2 as elb;
    pub use aws_sdk_iam as iam;
    pub use aws_sdk_rds as rds;
    pub use aws_sdk_route53 as route53;
    pub use aws_sdk_s3 as s3;
    pub use aws_sdk_sns as sns;
    pub use aws_sdk_ssm as ssm;
}

/// Tag keys trellis puts on every object it creates.
pub const TAG_STACK: &str = "trellis:stack";
pub const TAG_ADDRESS: &str = "trellis:address";
