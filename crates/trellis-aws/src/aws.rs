//! `Aws`: the connected clients, the rate buckets, the timeouts and what a run reports
//! (calls, retries, progress). Every kind's module takes one; none of it knows a kind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::progress::{Event, Progress};
use crate::{errors, limits};

/// One client per service.
pub(crate) struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub asg: aws_sdk_autoscaling::Client,
    pub rds: aws_sdk_rds::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub iam: aws_sdk_iam::Client,
    pub cw: aws_sdk_cloudwatch::Client,
    pub r53: aws_sdk_route53::Client,
    pub acm: aws_sdk_acm::Client,
    pub s3: aws_sdk_s3::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sns: aws_sdk_sns::Client,
    pub efs: aws_sdk_efs::Client,
}

/// A connected AWS provider.
pub struct Aws {
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) elb: aws_sdk_elasticloadbalancingv2::Client,
    pub(crate) asg: aws_sdk_autoscaling::Client,
    pub(crate) rds: aws_sdk_rds::Client,
    /// For lookups of public parameters (an AMI's id).
    pub(crate) ssm: aws_sdk_ssm::Client,
    /// IAM (global): roles and instance profiles.
    pub(crate) iam: aws_sdk_iam::Client,
    /// CloudWatch: metric alarms.
    pub(crate) cw: aws_sdk_cloudwatch::Client,
    /// Route53 (global): hosted zones and their records.
    pub(crate) r53: aws_sdk_route53::Client,
    /// ACM: certificates.
    pub(crate) acm: aws_sdk_acm::Client,
    /// S3: buckets (the state store has its own client).
    pub(crate) s3: aws_sdk_s3::Client,
    /// CloudWatch Logs: log groups.
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    /// SNS: topics.
    pub(crate) sns: aws_sdk_sns::Client,
    /// EFS: file systems and mount targets.
    pub(crate) efs: aws_sdk_efs::Client,
    /// The same clients making one attempt per call, for the calls that create an
    /// object: their outcome, when unknown, is looked up before they are sent again.
    pub(crate) once: Clients,
    /// Ids this run made, changed or just saw listed: a "not found" naming one is
    /// eventual consistency.
    pub(crate) recent: Arc<errors::Recent>,
    pub(crate) stats: Arc<errors::RetryStats>,
    pub(crate) region: String,
    pub(crate) calls: AtomicUsize,
    pub(crate) limits: limits::Limits,
    pub(crate) timeouts: Timeouts,
    pub(crate) progress: Option<Progress>,
    /// Test hook (`TRELLIS_TEST_CRASH_AFTER_CALLS=N`): the process kills itself with
    /// SIGKILL instead of making call N+1, so tests can crash an apply at every point.
    pub(crate) crash_after: Option<usize>,
    /// The last refresh's reads, by kind (see [`Aws::read_times`]).
    pub(crate) read_times: std::sync::Mutex<Vec<(&'static str, usize, Duration)>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// How long to retry a delete that AWS refuses because something still uses the
    /// object (`DependencyViolation`), such as interfaces that linger after a load balancer.
    pub delete: Duration,
    /// How long a just-created object may stay invisible or not yet ready.
    pub ready: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { delete: Duration::from_secs(600), ready: Duration::from_secs(300) }
    }
}

impl Aws {
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The EC2 client, for tests that change objects outside trellis.
    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        &self.ec2
    }

    /// The Elastic Load Balancing (v2) client, for tests.
    pub fn elb(&self) -> &aws_sdk_elasticloadbalancingv2::Client {
        &self.elb
    }

    /// The Auto Scaling client, for tests.
    pub fn autoscaling(&self) -> &aws_sdk_autoscaling::Client {
        &self.asg
    }

    /// The RDS client, for tests.
    pub fn rds(&self) -> &aws_sdk_rds::Client {
        &self.rds
    }

    /// The SSM client, for tests.
    pub fn ssm(&self) -> &aws_sdk_ssm::Client {
        &self.ssm
    }

    /// The Route53 client, for tests.
    pub fn route53(&self) -> &aws_sdk_route53::Client {
        &self.r53
    }

    /// The ACM client, for tests.
    pub fn acm(&self) -> &aws_sdk_acm::Client {
        &self.acm
    }

    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }

    pub fn logs(&self) -> &aws_sdk_cloudwatchlogs::Client {
        &self.logs
    }

    pub fn sns(&self) -> &aws_sdk_sns::Client {
        &self.sns
    }

    pub fn efs(&self) -> &aws_sdk_efs::Client {
        &self.efs
    }

    /// The CloudWatch client, for tests.
    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        &self.cw
    }

    /// The IAM client, for tests.
    pub fn iam(&self) -> &aws_sdk_iam::Client {
        &self.iam
    }

    /// How long the last refresh's read of each kind took, with the objects it found
    /// (the kinds are read at once, so these overlap): for `--timings`.
    pub fn read_times(&self) -> Vec<(&'static str, usize, Duration)> {
        self.read_times.lock().expect("read times").clone()
    }

    /// API calls made so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Waits for the call's rate-limit token and counts the call.
    pub(crate) async fn call(&self, class: limits::Call) {
        self.limits.take(class).await;
        self.count_call();
    }

    /// Counts a call about to be made (and, under the crash hook, dies before it).
    pub(crate) fn count_call(&self) {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if self.crash_after.is_some_and(|limit| n > limit) {
            let pid = std::process::id().to_string();
            let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
            std::process::abort();
        }
    }

    /// Tells the person watching what is being waited for or retried.
    pub fn tell(&self, event: Event) {
        if let Some(p) = &self.progress {
            p(&event);
        }
    }
}
