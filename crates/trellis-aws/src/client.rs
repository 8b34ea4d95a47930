use std::sync::atomic::AtomicUsize;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use trellis_core::ProviderError;

use crate::{Aws, Progress, Timeouts};

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

/// aws-config's standard chain, with the spec's region and `--endpoint-url` on top when
/// given. Every client trellis builds (the resource kinds', the S3 state store's) starts
/// here.
pub(crate) async fn load_config(region: Option<&str>, endpoint_url: Option<&str>) -> aws_config::SdkConfig {
    // Adaptive retries back off on throttling (RequestLimitExceeded) and rate-limit the
    // client itself, as AWS recommends for bursts of mutating calls.
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

/// Loads the AWS configuration and builds the clients. No call is made yet.
pub async fn connect(opts: AwsOptions) -> Result<Aws, ProviderError> {
    let config = load_config(opts.region.as_deref(), opts.endpoint_url.as_deref()).await;
    let Some(region) = config.region().map(|r| r.to_string()) else {
        return Err(ProviderError::new(
            None,
            "no AWS region: set `region:` in the spec, or AWS_REGION, or a region in your AWS profile",
        ));
    };
    Ok(Aws {
        ec2: aws_sdk_ec2::Client::new(&config),
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&config),
        asg: aws_sdk_autoscaling::Client::new(&config),
        rds: aws_sdk_rds::Client::new(&config),
        region,
        calls: AtomicUsize::new(0),
        limits: Default::default(),
        timeouts: opts.timeouts,
        progress: opts.progress,
        crash_after: std::env::var("TRELLIS_TEST_CRASH_AFTER_CALLS").ok().and_then(|v| v.parse().ok()),
    })
}
