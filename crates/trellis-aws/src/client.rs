//! Connecting to AWS: the aws-config chain and its region rules, one client per
//! service with trellis's retry classifier (`errors.rs`) and rate buckets, and a plain
//! error when no credentials are found.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime::client::retries::{RetryPartition, TokenBucket};
use trellis_core::ProviderError;

use crate::aws::Aws;
use crate::errors::{Classifier, Recent, RetryStats};
use crate::{Clients, Progress, Timeouts};

/// How to reach AWS. Everything left unset comes from the standard chain of
/// aws-config: environment (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`, keys),
/// shared config and credentials files, SSO, instance roles.
#[derive(Default, Clone)]
pub struct AwsOptions {
    /// The spec's `region:`; wins over the environment and profile.
    pub region: Option<String>,
    /// `--endpoint-url`; without it aws-config honours `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    pub timeouts: Timeouts,
    pub progress: Option<Progress>,
}

/// What to do when the standard chain found no credentials. A profile that is
/// configured wrongly is named by its own error; the SDK's whole chain of causes only
/// with `TRELLIS_LOG=debug` (or `--verbose`).
fn no_credentials(e: &CredentialsError) -> String {
    let why = match e {
        CredentialsError::InvalidConfiguration(_) | CredentialsError::ProviderTimedOut(_) => {
            format!(" ({})", crate::util::root_cause(e))
        }
        _ => String::new(),
    };
    let detail =
        crate::util::verbose().then(|| format!("\n{}", aws_smithy_types::error::display::DisplayErrorContext(e)));
    format!(
        "no AWS credentials were found{why}.\nhelp: choose a profile with AWS_PROFILE (`aws configure` makes one; \
         `aws sso login` for an SSO profile), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; for a local \
         emulator, set AWS_ENDPOINT_URL and any key pair{}",
        detail.unwrap_or_default()
    )
}

/// aws-config's standard chain, with the spec's region and `--endpoint-url` on top when
/// given. Every client trellis builds (the resource kinds', the S3 state store's) starts
/// here.
pub(crate) async fn load_config(region: Option<&str>, endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    // Adaptive retries, for the S3 state store's client; the resource clients replace
    // them with standard retries under trellis's error table (`clients`).
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::adaptive().with_max_attempts(10));
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// The resource clients (and SSM's, for lookups), each deciding its retries by the error table, with
/// `attempts` attempts per call at most.
fn clients(config: &aws_config::SdkConfig, classifier: &Classifier, attempts: u32) -> Clients {
    // Standard retries with a short first backoff (exponential with jitter, at most 20 s):
    // calls are already paced by trellis's own token buckets, so the SDK's adaptive
    // client-side limiter would only slow them further after one throttled answer.
    let retry = if attempts > 1 {
        RetryConfig::standard().with_max_attempts(attempts).with_initial_backoff(std::time::Duration::from_millis(250))
    } else {
        RetryConfig::disabled()
    };
    // No shared retry quota: the SDK's default stops retrying a client's calls once 100
    // of them have been retried, which eventual consistency alone reaches in a large
    // apply. Each call is bounded by its attempts instead, and paced by trellis's buckets.
    let partition = RetryPartition::custom("trellis").token_bucket(TokenBucket::unlimited()).build();
    macro_rules! client {
        ($sdk:ident) => {
            $sdk::Client::from_conf(
                $sdk::config::Builder::from(config)
                    .retry_config(retry.clone())
                    .retry_partition(partition.clone())
                    .retry_classifier(classifier.clone())
                    .build(),
            )
        };
    }
    Clients {
        ec2: client!(aws_sdk_ec2),
        elb: client!(aws_sdk_elasticloadbalancingv2),
        asg: client!(aws_sdk_autoscaling),
        rds: client!(aws_sdk_rds),
        ssm: client!(aws_sdk_ssm),
        iam: client!(aws_sdk_iam),
        cw: client!(aws_sdk_cloudwatch),
        r53: client!(aws_sdk_route53),
        acm: client!(aws_sdk_acm),
        logs: client!(aws_sdk_cloudwatchlogs),
        sns: client!(aws_sdk_sns),
        efs: client!(aws_sdk_efs),
        // Path-style addressing where the endpoint is not AWS's own (an S3-compatible
        // store), as the state store's client does.
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(config)
                .force_path_style(config.endpoint_url().is_some())
                .retry_config(retry.clone())
                .retry_partition(partition.clone())
                .retry_classifier(classifier.clone())
                .build(),
        ),
    }
}

/// Loads the AWS configuration and builds the clients. No call is made yet.
pub async fn connect(opts: AwsOptions) -> Result<Aws, ProviderError> {
    let config = load_config(opts.region.as_deref(), opts.endpoint_url.as_deref()).await;
    let Some(region) = config.region().map(|r| r.to_string()) else {
        return Err(ProviderError::new(
            None,
            "no AWS region: set `region:` in the spec, or AWS_REGION, or a region in your AWS profile",
        ));
    };
    if !looks_like_region(&region) {
        return Err(ProviderError::new(
            Some("InvalidRegion"),
            format!("`{region}` is not an AWS region name (they look like `us-east-1` or `eu-central-2`)"),
        ));
    }
    // Resolved once here, so a machine without credentials gets one plain error before
    // any call rather than the SDK's chain of causes from inside the first one.
    if let Some(provider) = config.credentials_provider() {
        if let Err(e) = provider.provide_credentials().await {
            return Err(ProviderError::new(Some("NoCredentials"), no_credentials(&e)));
        }
    }
    let classifier = Classifier { recent: Arc::new(Recent::default()), progress: opts.progress.clone() };
    let Clients { ec2, elb, asg, rds, ssm, iam, cw, r53, acm, s3, logs, sns, efs } = clients(&config, &classifier, 10);
    Ok(Aws {
        ec2,
        elb,
        asg,
        rds,
        ssm,
        iam,
        cw,
        r53,
        acm,
        s3,
        logs,
        sns,
        efs,
        // A create is never sent again by the SDK: its outcome is resolved first.
        once: clients(&config, &classifier, 1),
        recent: classifier.recent,
        stats: Arc::new(RetryStats::default()),
        region,
        calls: AtomicUsize::new(0),
        limits: Default::default(),
        timeouts: opts.timeouts,
        progress: opts.progress,
        crash_after: std::env::var("TRELLIS_TEST_CRASH_AFTER_CALLS").ok().and_then(|v| v.parse().ok()),
        read_times: Default::default(),
    })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`: two letters, words, a
/// number, each after a dash. Anything else the SDK cannot even build a request for.
fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
        && parts.last().is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod region_tests {
    #[test]
    fn region_names_are_told_from_other_text() {
        for ok in ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-4", "us-isob-east-1"] {
            assert!(super::looks_like_region(ok), "{ok}");
        }
        for bad in ["", "us-east", "useast1", "US-EAST-1", "us-east-1x", "not a region", "us--1", "u-east-1"] {
            assert!(!super::looks_like_region(bad), "{bad}");
        }
    }
}
