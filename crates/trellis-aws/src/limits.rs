//! Client-side rate limits matched to AWS's published token buckets, so that a large
//! apply with many operations in flight stays under them instead of being throttled and
//! backing off.
//!
//! Each bucket keeps a reserve: a fifth of AWS's burst and a twentieth of its refill
//! rate are left unused. AWS's bucket is the account's, and it sees what trellis sends
//! later and unevenly (the network's jitter), plus the SDK's retries, which take no
//! token here; a bucket run at exactly AWS's figures is throttled now and then (the
//! apply benchmark saw it), one with the reserve is not, and the slower refill lets the
//! reserve come back after retries.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// A token bucket: `capacity` calls at once, refilled at `per_second`.
pub(crate) struct Bucket {
    capacity: f64,
    per_second: f64,
    state: Mutex<(f64, Instant)>,
}

/// The share of AWS's burst and of its refill rate trellis uses.
const BURST_SHARE: f64 = 0.8;
const RATE_SHARE: f64 = 0.95;

impl Bucket {
    pub fn new(capacity: f64, per_second: f64) -> Bucket {
        Bucket { capacity, per_second, state: Mutex::new((capacity, Instant::now())) }
    }

    /// A bucket under AWS's of `size` refilled at `per_second`, keeping its reserve.
    pub fn under(size: f64, per_second: f64) -> Bucket {
        Bucket::new((size * BURST_SHARE).floor().max(1.0), per_second * RATE_SHARE)
    }

    /// Waits until a token is free and takes it.
    pub async fn take(&self) {
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                s.0 = (s.0 + now.duration_since(s.1).as_secs_f64() * self.per_second).min(self.capacity);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                Duration::from_secs_f64((1.0 - s.0) / self.per_second)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

/// Which of AWS's buckets a call draws from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Call {
    /// EC2 Describe*: 100 at once, 20 per second.
    Describe,
    /// EC2 mutating calls: 50 at once, 5 per second.
    Mutate,
    /// Authorize/RevokeSecurityGroup*: their own 50 / 5 bucket.
    SecurityGroupRule,
    /// RunInstances: 5 at once, 2 per second.
    RunInstances,
    /// ELBv2 Describe*: 40 / 10 (and the account-wide ELB bucket).
    ElbDescribe,
    /// ELBv2 mutating calls: 20 / 3 (and the account-wide ELB bucket).
    ElbMutate,
    /// CreateLoadBalancer: 10 / 0.2 (and the mutating and account-wide buckets).
    ElbCreateLoadBalancer,
    /// Auto Scaling publishes no figure; 20 / 5 keeps well clear of throttling.
    AutoScaling,
    /// RDS: one bucket for all calls, 300 at once, 12 per second.
    Rds,
    /// SSM GetParameter: 40 per second (the standard throughput).
    Ssm,
    /// IAM, one account-wide service that publishes no per-call figure: 20 / 10 keeps
    /// well clear of its throttling, which is felt account-wide.
    Iam,
    /// CloudWatch: PutMetricAlarm's quota is 3 per second, DescribeAlarms' 9; one bucket
    /// of 10 / 3 keeps both clear.
    CloudWatch,
    /// Route53: five requests per second per account, all calls.
    Route53,
    /// ACM: RequestCertificate 5 per second, DescribeCertificate 10; one bucket of 10 / 5.
    Acm,
    /// S3's bucket-level calls (settings, tags, listings): no published figure for them
    /// (the thousands per second S3 states are for objects); 50 / 20 stays clear.
    S3,
    /// CloudWatch Logs: CreateLogGroup 5 per second, DescribeLogGroups 10; one bucket of 10 / 5.
    Logs,
    /// SNS: control-plane calls (CreateTopic, SetTopicAttributes, ...) are a few per
    /// second; 10 / 5 stays clear.
    Sns,
    /// EFS: control-plane calls are throttled at a few per second (DescribeFileSystems,
    /// CreateMountTarget); 10 / 5 stays clear.
    Efs,
}

pub(crate) struct Limits {
    describe: Bucket,
    mutate: Bucket,
    sg_rules: Bucket,
    run_instances: Bucket,
    elb_all: Bucket,
    elb_describe: Bucket,
    elb_mutate: Bucket,
    elb_create_lb: Bucket,
    autoscaling: Bucket,
    rds: Bucket,
    ssm: Bucket,
    iam: Bucket,
    cloudwatch: Bucket,
    route53: Bucket,
    acm: Bucket,
    s3: Bucket,
    logs: Bucket,
    sns: Bucket,
    efs: Bucket,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            describe: Bucket::under(100.0, 20.0),
            mutate: Bucket::under(50.0, 5.0),
            sg_rules: Bucket::under(50.0, 5.0),
            run_instances: Bucket::under(5.0, 2.0),
            elb_all: Bucket::under(40.0, 10.0),
            elb_describe: Bucket::under(40.0, 10.0),
            elb_mutate: Bucket::under(20.0, 3.0),
            elb_create_lb: Bucket::under(10.0, 0.2),
            autoscaling: Bucket::under(20.0, 5.0),
            rds: Bucket::under(300.0, 12.0),
            ssm: Bucket::under(40.0, 40.0),
            iam: Bucket::under(20.0, 10.0),
            cloudwatch: Bucket::under(10.0, 3.0),
            route53: Bucket::under(5.0, 5.0),
            acm: Bucket::under(10.0, 5.0),
            s3: Bucket::under(50.0, 20.0),
            logs: Bucket::under(10.0, 5.0),
            sns: Bucket::under(10.0, 5.0),
            efs: Bucket::under(10.0, 5.0),
        }
    }
}

impl Limits {
    pub async fn take(&self, call: Call) {
        match call {
            Call::Describe => self.describe.take().await,
            Call::Mutate => self.mutate.take().await,
            Call::SecurityGroupRule => self.sg_rules.take().await,
            Call::RunInstances => self.run_instances.take().await,
            Call::ElbDescribe => {
                self.elb_describe.take().await;
                self.elb_all.take().await;
            }
            Call::ElbMutate => {
                self.elb_mutate.take().await;
                self.elb_all.take().await;
            }
            Call::ElbCreateLoadBalancer => {
                self.elb_create_lb.take().await;
                self.elb_mutate.take().await;
                self.elb_all.take().await;
            }
            Call::AutoScaling => self.autoscaling.take().await,
            Call::Rds => self.rds.take().await,
            Call::Ssm => self.ssm.take().await,
            Call::Iam => self.iam.take().await,
            Call::CloudWatch => self.cloudwatch.take().await,
            Call::Route53 => self.route53.take().await,
            Call::Acm => self.acm.take().await,
            Call::S3 => self.s3.take().await,
            Call::Logs => self.logs.take().await,
            Call::Sns => self.sns.take().await,
            Call::Efs => self.efs.take().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bucket_allows_its_burst_then_its_rate() {
        let b = Bucket::new(3.0, 20.0);
        let start = Instant::now();
        for _ in 0..3 {
            b.take().await;
        }
        let burst = start.elapsed();
        b.take().await; // the fourth must wait for a twentieth of a second of refill
        assert!(start.elapsed() >= Duration::from_millis(45), "{:?}", start.elapsed());
        assert!(burst < Duration::from_millis(45), "the burst itself must not wait: {burst:?}");
    }
}
