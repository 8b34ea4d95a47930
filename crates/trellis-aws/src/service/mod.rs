//! What the kinds of one AWS service share, declared once per service (a `Service`)
//! rather than as an override block in each kind's file: how its objects are tagged,
//! whether an object's id is its name, and where a create whose outcome is unknown
//! may have left its object. A kind names its service (`AwsKind::service`); the
//! trait's defaults ask it. The services that read or tag their objects their own way
//! have a module here: ELB (tags by ARN, 20 a call), RDS (tags by ARN, no tag filter,
//! lower-case names), IAM (a path per stack, eventual consistency), Route53 (zones'
//! tags 10 a call, records untagged, the wait for `INSYNC`) and ACM (tags one
//! certificate a call, its idempotency token). A kind's own calls stay in its file
//! under `kinds/`.

pub(crate) mod acm;
pub(crate) mod elb;
pub(crate) mod iam;
pub(crate) mod rds;
pub(crate) mod route53;

use trellis_core::{Attrs, ProviderError, Value};

use crate::aws::Aws;

/// How a service's objects take their tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tags {
    /// EC2's CreateTags and DeleteTags, by the object's id.
    Ec2,
    /// ELB's AddTags and RemoveTags, by the object's ARN (its id).
    ElbByArn,
    /// RDS's AddTagsToResource, by the ARN the object records; the user's tags change
    /// with the rest of an update, trellis's own by `retag`.
    RdsByRecordedArn,
    /// IAM's TagRole and UntagRole.
    IamRole,
    /// IAM's TagInstanceProfile and UntagInstanceProfile.
    IamProfile,
    /// Route53's ChangeTagsForResource, by the zone's id.
    Route53Zone,
    /// ACM's AddTagsToCertificate and RemoveTagsFromCertificate, by the ARN.
    Acm,
    /// None: its objects take no tags (Route53's records), and are known by id only.
    Untagged,
    /// The kind tags its objects in its own file (it overrides `sync_tags`).
    ByKind,
}

/// What the kinds of one service share.
#[derive(Debug)]
pub(crate) struct Service {
    pub name: &'static str,
    pub tags: Tags,
    /// An object's id is its name: a name is looked up by reading that id.
    pub names_are_ids: bool,
    /// A stack's read sees only the names trellis generates (RDS has no tag filter):
    /// a lost create of a name the spec fixes is also looked for by that name.
    pub find_by_name: bool,
}

pub(crate) static EC2: Service = Service { name: "EC2", tags: Tags::Ec2, names_are_ids: false, find_by_name: false };
pub(crate) static ELB: Service =
    Service { name: "Elastic Load Balancing", tags: Tags::ElbByArn, names_are_ids: false, find_by_name: false };
pub(crate) static RDS: Service =
    Service { name: "RDS", tags: Tags::RdsByRecordedArn, names_are_ids: true, find_by_name: true };
pub(crate) static IAM_ROLES: Service =
    Service { name: "IAM (roles)", tags: Tags::IamRole, names_are_ids: true, find_by_name: false };
/// IAM's customer-managed policies: known by ARN, tagged in `kinds/iam_policy.rs`.
pub(crate) static IAM_POLICIES: Service =
    Service { name: "IAM (policies)", tags: Tags::ByKind, names_are_ids: false, find_by_name: false };
pub(crate) static IAM_PROFILES: Service =
    Service { name: "IAM (instance profiles)", tags: Tags::IamProfile, names_are_ids: true, find_by_name: false };
pub(crate) static AUTO_SCALING: Service =
    Service { name: "Auto Scaling", tags: Tags::ByKind, names_are_ids: true, find_by_name: false };
pub(crate) static ROUTE53_ZONES: Service =
    Service { name: "Route53 (zones)", tags: Tags::Route53Zone, names_are_ids: false, find_by_name: false };
pub(crate) static ROUTE53_RECORDS: Service =
    Service { name: "Route53 (records)", tags: Tags::Untagged, names_are_ids: false, find_by_name: false };
pub(crate) static ACM: Service = Service { name: "ACM", tags: Tags::Acm, names_are_ids: false, find_by_name: false };
/// S3: no tag filter (a stack's buckets are read by its name prefix, then their tags);
/// a bucket's name is its id; its tags are replaced whole (`kinds/s3_bucket.rs`).
pub(crate) static S3: Service = Service { name: "S3", tags: Tags::ByKind, names_are_ids: true, find_by_name: true };
/// CloudWatch Logs: a log group's name is its id; tags by ARN (`kinds/log_group.rs`).
pub(crate) static LOGS: Service =
    Service { name: "CloudWatch Logs", tags: Tags::ByKind, names_are_ids: true, find_by_name: true };
/// SNS: a topic is known by its ARN; tags by ARN (`kinds/sns_topic.rs`).
pub(crate) static SNS: Service = Service { name: "SNS", tags: Tags::ByKind, names_are_ids: false, find_by_name: false };
/// EFS: file systems tagged by id (`TagResource`), listed whole with their tags (no
/// tag filter; `kinds/efs_file_system.rs`).
pub(crate) static EFS: Service = Service { name: "EFS", tags: Tags::ByKind, names_are_ids: false, find_by_name: false };
/// EFS's mount targets take no tags: known by id.
pub(crate) static EFS_MOUNT_TARGETS: Service =
    Service { name: "EFS (mount targets)", tags: Tags::Untagged, names_are_ids: false, find_by_name: false };
/// SNS's subscriptions take no tags: known by ARN.
pub(crate) static SNS_SUBSCRIPTIONS: Service =
    Service { name: "SNS (subscriptions)", tags: Tags::Untagged, names_are_ids: false, find_by_name: false };
/// EC2's routes take no tags: known by `<table id>_<destination>`.
pub(crate) static EC2_ROUTES: Service =
    Service { name: "EC2 (routes)", tags: Tags::Untagged, names_are_ids: false, find_by_name: false };
pub(crate) static CLOUDWATCH: Service =
    Service { name: "CloudWatch", tags: Tags::ByKind, names_are_ids: true, find_by_name: false };

/// Brings the user's tags of object `id` from `before` to `after`, as its service tags.
pub(crate) async fn sync_tags(
    service: &Service,
    aws: &Aws,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    match service.tags {
        Tags::Ec2 => crate::util::sync_tags(aws, id, before, after).await,
        Tags::ElbByArn => elb::sync_tags(aws, id, before, after).await,
        // Changed with the rest of the update, which has the recorded ARN.
        Tags::RdsByRecordedArn => Ok(()),
        Tags::IamRole => iam::sync_tags(aws, iam::Tagged::Role, id, before, after).await,
        Tags::IamProfile => iam::sync_tags(aws, iam::Tagged::Profile, id, before, after).await,
        Tags::Route53Zone => route53::sync_tags(aws, id, before, after).await,
        Tags::Acm => acm::sync_tags(aws, id, before, after).await,
        Tags::Untagged => Ok(()),
        Tags::ByKind => Err(ProviderError::new(
            None,
            format!("{}: a kind that tags its own objects must say how (`sync_tags`)", service.name),
        )),
    }
}

/// Sets or removes trellis's own tags of an object recorded as `attrs`, as its service
/// tags; `None` when the service tags as `sync_tags` does.
pub(crate) async fn retag(
    service: &Service,
    aws: &Aws,
    attrs: &Attrs,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Option<Result<(), ProviderError>> {
    match service.tags {
        Tags::RdsByRecordedArn => Some(rds::sync_tag_maps(aws, attrs, before, after).await),
        _ => None,
    }
}
