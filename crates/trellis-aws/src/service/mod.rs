//! What the kinds of one AWS service share, where a service tags, names or reads its
//! objects its own way: ELB (tags by ARN, 20 a call), RDS (tags by ARN, no tag
//! filter, lower-case names) and IAM (a path per stack, eventual consistency). A
//! kind's own calls stay in its file under `kinds/`.

pub(crate) mod elb;
pub(crate) mod iam;
pub(crate) mod rds;
