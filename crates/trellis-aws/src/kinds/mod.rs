//! The AWS side of each resource kind: how to describe (in batches), create, finish
//! configuring, update and delete it. A module per service area (`rds.rs` holds the
//! three RDS kinds, `asg.rs` groups and their policies), and one registry line per kind.

mod asg;
mod attachment;
mod elb;
mod iam;
mod igw;
mod instance;
mod key_pair;
mod launch_template;
mod listener;
mod load_balancer;
mod metric_alarm;
mod nacl;
mod nat;
mod rds;
#[cfg(test)]
mod roundtrip;
mod route_table;
mod sg;
mod subnet;
mod target_group;
mod vpc;

use trellis_core::schema::Kind;
use trellis_core::{kinds, Address, Attrs, ProviderError, Value};

use crate::aws::Aws;
use crate::util::Described;
use crate::util::Select;

/// What a kind's create call is given.
pub(crate) struct Create<'a> {
    pub stack: &'a str,
    pub address: &'a Address,
    pub attrs: &'a Attrs,
    /// This create's idempotency token, the same on every attempt, for the calls that
    /// take one (`ClientToken`).
    pub token: &'a str,
    /// Make a generated name unique with a suffix: the plain one is taken by an object
    /// that is not this create's (the one being replaced).
    pub suffix: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KindOps {
    Vpc,
    Subnet,
    InternetGateway,
    RouteTable,
    NetworkAcl,
    SecurityGroup,
    LaunchTemplate,
    TargetGroup,
    LoadBalancer,
    Listener,
    AutoscalingGroup,
    ScalingPolicy,
    Instance,
    TargetGroupAttachment,
    DbSubnetGroup,
    DbParameterGroup,
    DbInstance,
    ElasticIp,
    NatGateway,
    IamRole,
    IamInstanceProfile,
    KeyPair,
    MetricAlarm,
}

/// The registry: each kind of the schema (by its static, not by a string) with its AWS
/// implementation. The matches below have no wildcard arm, so a variant without its
/// describe, create, configure, update, tags and delete does not compile; a test checks
/// that every kind of `kinds::ALL` is here once.
static REGISTRY: [(&Kind, KindOps); 23] = [
    (&kinds::VPC, KindOps::Vpc),
    (&kinds::SUBNET, KindOps::Subnet),
    (&kinds::INTERNET_GATEWAY, KindOps::InternetGateway),
    (&kinds::ROUTE_TABLE, KindOps::RouteTable),
    (&kinds::NETWORK_ACL, KindOps::NetworkAcl),
    (&kinds::SECURITY_GROUP, KindOps::SecurityGroup),
    (&kinds::LAUNCH_TEMPLATE, KindOps::LaunchTemplate),
    (&kinds::TARGET_GROUP, KindOps::TargetGroup),
    (&kinds::LOAD_BALANCER, KindOps::LoadBalancer),
    (&kinds::LISTENER, KindOps::Listener),
    (&kinds::AUTOSCALING_GROUP, KindOps::AutoscalingGroup),
    (&kinds::SCALING_POLICY, KindOps::ScalingPolicy),
    (&kinds::INSTANCE, KindOps::Instance),
    (&kinds::TARGET_GROUP_ATTACHMENT, KindOps::TargetGroupAttachment),
    (&kinds::DB_SUBNET_GROUP, KindOps::DbSubnetGroup),
    (&kinds::DB_PARAMETER_GROUP, KindOps::DbParameterGroup),
    (&kinds::DB_INSTANCE, KindOps::DbInstance),
    (&kinds::ELASTIC_IP, KindOps::ElasticIp),
    (&kinds::NAT_GATEWAY, KindOps::NatGateway),
    (&kinds::IAM_ROLE, KindOps::IamRole),
    (&kinds::IAM_INSTANCE_PROFILE, KindOps::IamInstanceProfile),
    (&kinds::KEY_PAIR, KindOps::KeyPair),
    (&kinds::METRIC_ALARM, KindOps::MetricAlarm),
];

pub(crate) fn ops(kind: &Kind) -> Option<KindOps> {
    REGISTRY.iter().find(|(k, _)| *k == kind).map(|(_, ops)| *ops)
}

/// The schema of the kind an implementation serves.
fn schema_of(ops: KindOps) -> &'static Kind {
    REGISTRY.iter().find(|(_, o)| *o == ops).map(|(k, _)| *k).expect("every implementation is registered")
}

impl KindOps {
    /// All objects the selection names, with their attributes in schema shape.
    pub async fn describe(self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        match self {
            KindOps::Vpc => vpc::describe(aws, sel).await,
            KindOps::Subnet => subnet::describe(aws, sel).await,
            KindOps::InternetGateway => igw::describe(aws, sel).await,
            KindOps::RouteTable => route_table::describe(aws, sel).await,
            KindOps::NetworkAcl => nacl::describe(aws, sel).await,
            KindOps::SecurityGroup => sg::describe(aws, sel).await,
            KindOps::LaunchTemplate => launch_template::describe(aws, sel).await,
            KindOps::TargetGroup => target_group::describe(aws, sel).await,
            KindOps::LoadBalancer => load_balancer::describe(aws, sel).await,
            KindOps::Listener => listener::describe(aws, sel).await,
            KindOps::AutoscalingGroup => asg::describe(aws, sel).await,
            KindOps::ScalingPolicy => asg::describe_policies(aws, sel).await,
            KindOps::Instance => instance::describe(aws, sel).await,
            KindOps::TargetGroupAttachment => attachment::describe(aws, sel).await,
            KindOps::DbSubnetGroup => rds::describe_subnet_groups(aws, sel).await,
            KindOps::DbParameterGroup => rds::describe_parameter_groups(aws, sel).await,
            KindOps::DbInstance => rds::describe_instances(aws, sel).await,
            KindOps::ElasticIp => nat::describe_eips(aws, sel).await,
            KindOps::NatGateway => nat::describe_nats(aws, sel).await,
            KindOps::IamRole => iam::describe_roles(aws, sel).await,
            KindOps::IamInstanceProfile => iam::describe_profiles(aws, sel).await,
            KindOps::KeyPair => key_pair::describe(aws, sel).await,
            KindOps::MetricAlarm => metric_alarm::describe(aws, sel).await,
        }
    }

    /// The single call that brings the object into being; returns its id.
    pub async fn create(self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        match self {
            KindOps::Vpc => vpc::create(aws, c).await,
            KindOps::Subnet => subnet::create(aws, c).await,
            KindOps::InternetGateway => igw::create(aws, c).await,
            KindOps::RouteTable => route_table::create(aws, c).await,
            KindOps::NetworkAcl => nacl::create(aws, c).await,
            KindOps::SecurityGroup => sg::create(aws, c).await,
            KindOps::LaunchTemplate => launch_template::create(aws, c).await,
            KindOps::TargetGroup => target_group::create(aws, c).await,
            KindOps::LoadBalancer => load_balancer::create(aws, c).await,
            KindOps::Listener => listener::create(aws, c).await,
            KindOps::AutoscalingGroup => asg::create(aws, c).await,
            KindOps::ScalingPolicy => asg::put_policy(aws, c.attrs).await,
            KindOps::Instance => instance::create(aws, c).await,
            KindOps::TargetGroupAttachment => attachment::create(aws, c).await,
            KindOps::DbSubnetGroup => rds::create_subnet_group(aws, c).await,
            KindOps::DbParameterGroup => rds::create_parameter_group(aws, c).await,
            KindOps::DbInstance => rds::create_instance(aws, c).await,
            KindOps::ElasticIp => nat::create_eip(aws, c).await,
            KindOps::NatGateway => nat::create_nat(aws, c).await,
            KindOps::IamRole => iam::create_role(aws, c).await,
            KindOps::IamInstanceProfile => iam::create_profile(aws, c).await,
            KindOps::KeyPair => key_pair::create(aws, c).await,
            KindOps::MetricAlarm => metric_alarm::create(aws, c).await,
        }
    }

    /// Where a create whose outcome is unknown may have left its object: everything of
    /// the kind tagged with the stack (or, for listeners, the load balancer's listeners).
    pub async fn find_created(self, aws: &Aws, c: &Create<'_>) -> Result<Vec<Described>, ProviderError> {
        match self {
            KindOps::Listener => listener::find_created(aws, c.attrs).await,
            // RDS objects are known by name, and a stack read only asks the tags of groups
            // named with the stack's prefix: a name the spec fixes is read by itself too.
            KindOps::DbSubnetGroup | KindOps::DbParameterGroup | KindOps::DbInstance => {
                let mut found = self.describe(aws, Select::Stack(c.stack)).await?;
                let name_attr = schema_of(self).generated_name;
                if let Some(name) = name_attr.and_then(|n| crate::util::str_attr(c.attrs, n)) {
                    let names = [name.to_lowercase()];
                    found.extend(self.describe(aws, Select::Ids(&names)).await?);
                }
                Ok(found)
            }
            _ => self.describe(aws, Select::Stack(c.stack)).await,
        }
    }

    /// Whether sending the create again is harmless (a put, a registration): its
    /// outcome needs no look-up.
    pub fn create_is_idempotent(self) -> bool {
        matches!(self, KindOps::ScalingPolicy | KindOps::TargetGroupAttachment)
    }

    /// Everything after the create call: waits, attributes, rules, associations.
    pub async fn configure(self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        match self {
            KindOps::Vpc => vpc::configure(aws, id, attrs).await,
            KindOps::Subnet => subnet::configure(aws, id, attrs).await,
            KindOps::InternetGateway => igw::configure(aws, id, attrs).await,
            KindOps::RouteTable => route_table::configure(aws, id, attrs).await,
            KindOps::NetworkAcl => nacl::configure(aws, id, attrs).await,
            KindOps::SecurityGroup => sg::configure(aws, id, attrs).await,
            KindOps::LaunchTemplate => launch_template::configure(aws, id, attrs).await,
            KindOps::TargetGroup => target_group::configure(aws, id, attrs).await,
            KindOps::LoadBalancer => load_balancer::configure(aws, id, attrs).await,
            KindOps::Listener => listener::configure(aws, id, attrs).await,
            KindOps::AutoscalingGroup => asg::configure(aws, id, attrs).await,
            KindOps::ScalingPolicy => Ok(()),
            KindOps::Instance => instance::configure(aws, id, attrs).await,
            KindOps::TargetGroupAttachment => attachment::configure(aws, id, attrs).await,
            KindOps::DbSubnetGroup => Ok(()),
            KindOps::DbParameterGroup => rds::configure_parameter_group(aws, id, attrs).await,
            KindOps::DbInstance => rds::configure_instance(aws, id, attrs).await,
            KindOps::ElasticIp => nat::configure_eip(aws, id, attrs).await,
            KindOps::NatGateway => nat::configure_nat(aws, id, attrs).await,
            KindOps::IamRole => iam::configure_role(aws, id, attrs).await,
            KindOps::IamInstanceProfile => iam::configure_profile(aws, id, attrs).await,
            KindOps::KeyPair | KindOps::MetricAlarm => Ok(()),
        }
    }

    /// In-place changes from `before` to `after` (tags are handled by `sync_tags`).
    pub async fn update(self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        match self {
            KindOps::Vpc => vpc::update(aws, id, before, after).await,
            KindOps::Subnet => subnet::update(aws, id, before, after).await,
            KindOps::InternetGateway => igw::update(aws, id, before, after).await,
            KindOps::RouteTable => route_table::update(aws, id, before, after).await,
            KindOps::NetworkAcl => nacl::update(aws, id, before, after).await,
            KindOps::SecurityGroup => sg::update(aws, id, before, after).await,
            KindOps::LaunchTemplate => launch_template::update(aws, id, before, after).await,
            KindOps::TargetGroup => target_group::update(aws, id, before, after).await,
            KindOps::LoadBalancer => load_balancer::update(aws, id, before, after).await,
            KindOps::Listener => listener::update(aws, id, before, after).await,
            KindOps::AutoscalingGroup => asg::update(aws, id, before, after).await,
            // PutScalingPolicy creates and updates alike; the ARN stays.
            KindOps::ScalingPolicy => asg::put_policy(aws, after).await.map(|_| ()),
            KindOps::Instance => instance::update(aws, id, before, after).await,
            KindOps::TargetGroupAttachment => attachment::update(aws, id, before, after).await,
            // RDS tags by ARN: each of these syncs its tags itself.
            KindOps::DbSubnetGroup => rds::update_subnet_group(aws, id, before, after).await,
            KindOps::DbParameterGroup => rds::update_parameter_group(aws, id, before, after).await,
            KindOps::DbInstance => rds::update_instance(aws, id, before, after).await,
            KindOps::ElasticIp => nat::update_eip(aws, id, before, after).await,
            // Everything but its tags replaces it.
            KindOps::NatGateway | KindOps::KeyPair => Ok(()),
            KindOps::IamRole => iam::update_role(aws, id, before, after).await,
            KindOps::IamInstanceProfile => iam::update_profile(aws, id, before, after).await,
            // PutMetricAlarm sets every setting; the name stays.
            KindOps::MetricAlarm => metric_alarm::update(aws, id, before, after).await,
        }
    }

    /// Brings the user's tags from `before` to `after`, each service its own way.
    pub async fn sync_tags(
        self,
        aws: &Aws,
        id: &str,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        match self {
            KindOps::TargetGroup | KindOps::LoadBalancer | KindOps::Listener => {
                elb::sync_tags(aws, id, before, after).await
            }
            KindOps::AutoscalingGroup => asg::sync_tags(aws, id, before, after).await,
            KindOps::IamRole => iam::sync_tags(aws, iam::Tagged::Role, id, before, after).await,
            KindOps::IamInstanceProfile => iam::sync_tags(aws, iam::Tagged::Profile, id, before, after).await,
            KindOps::KeyPair => key_pair::sync_tags(aws, id, before, after).await,
            KindOps::MetricAlarm => metric_alarm::sync_tags(aws, id, before, after).await,
            KindOps::ScalingPolicy | KindOps::TargetGroupAttachment => Ok(()),
            KindOps::DbSubnetGroup | KindOps::DbParameterGroup | KindOps::DbInstance => Ok(()),
            KindOps::Vpc
            | KindOps::Subnet
            | KindOps::InternetGateway
            | KindOps::RouteTable
            | KindOps::NetworkAcl
            | KindOps::SecurityGroup
            | KindOps::LaunchTemplate
            | KindOps::Instance
            | KindOps::ElasticIp
            | KindOps::NatGateway => crate::util::sync_tags(aws, id, before, after).await,
        }
    }

    /// Sets (`after`) or removes (`before` without `after`) trellis's own tags; `attrs`
    /// is the object as recorded (RDS tags by the ARN in it).
    pub async fn retag(
        self,
        aws: &Aws,
        id: &str,
        attrs: &Attrs,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        match self {
            KindOps::DbSubnetGroup | KindOps::DbParameterGroup | KindOps::DbInstance => {
                rds::sync_tag_maps(aws, attrs, before, after).await
            }
            _ => self.sync_tags(aws, id, before, after).await,
        }
    }

    pub async fn delete(self, aws: &Aws, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        match self {
            KindOps::Vpc => vpc::delete(aws, address, id).await,
            KindOps::Subnet => subnet::delete(aws, address, id).await,
            KindOps::InternetGateway => igw::delete(aws, address, id).await,
            KindOps::RouteTable => route_table::delete(aws, address, id).await,
            KindOps::NetworkAcl => nacl::delete(aws, address, id).await,
            KindOps::SecurityGroup => sg::delete(aws, address, id).await,
            KindOps::LaunchTemplate => launch_template::delete(aws, address, id).await,
            KindOps::TargetGroup => target_group::delete(aws, address, id).await,
            KindOps::LoadBalancer => load_balancer::delete(aws, address, id).await,
            KindOps::Listener => listener::delete(aws, address, id).await,
            KindOps::AutoscalingGroup => asg::delete(aws, address, id).await,
            KindOps::ScalingPolicy => asg::delete_policy(aws, id, attrs).await,
            KindOps::Instance => instance::delete(aws, address, id).await,
            KindOps::TargetGroupAttachment => attachment::delete(aws, address, id, attrs).await,
            KindOps::DbSubnetGroup => rds::delete_subnet_group(aws, address, id).await,
            KindOps::DbParameterGroup => rds::delete_parameter_group(aws, address, id).await,
            KindOps::DbInstance => rds::delete_instance(aws, address, id, attrs).await,
            KindOps::ElasticIp => nat::delete_eip(aws, address, id).await,
            KindOps::NatGateway => nat::delete_nat(aws, address, id).await,
            KindOps::IamRole => iam::delete_role(aws, address, id).await,
            KindOps::IamInstanceProfile => iam::delete_profile(aws, address, id).await,
            KindOps::KeyPair => key_pair::delete(aws, address, id).await,
            KindOps::MetricAlarm => metric_alarm::delete(aws, address, id).await,
        }
    }
}

#[cfg(test)]
mod registry_tests {
    #[test]
    fn every_kind_of_the_schema_has_its_aws_module() {
        for kind in trellis_core::kinds::ALL {
            let entries = super::REGISTRY.iter().filter(|(k, _)| std::ptr::eq(*k, *kind)).count();
            assert_eq!(entries, 1, "kind {} has {entries} AWS implementations", kind.name);
            let ops = super::ops(kind).unwrap();
            assert!(std::ptr::eq(super::schema_of(ops), *kind), "{} maps back to its schema", kind.name);
        }
        assert_eq!(super::REGISTRY.len(), trellis_core::kinds::ALL.len(), "nothing registered outside the schema");
    }
}
