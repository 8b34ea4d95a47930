//! One module per resource kind: how to describe (in batches), create, finish
//! configuring, update and delete it.

mod igw;
mod nacl;
mod route_table;
mod sg;
mod subnet;
mod vpc;

use trellis_core::{Address, Attrs, ProviderError};

use crate::util::Select;
use crate::{Aws, Described};

#[derive(Clone, Copy, Debug)]
pub(crate) enum KindOps {
    Vpc,
    Subnet,
    InternetGateway,
    RouteTable,
    NetworkAcl,
    SecurityGroup,
}

pub(crate) fn ops(kind: &str) -> Option<KindOps> {
    Some(match kind {
        "vpc" => KindOps::Vpc,
        "subnet" => KindOps::Subnet,
        "internet_gateway" => KindOps::InternetGateway,
        "route_table" => KindOps::RouteTable,
        "network_acl" => KindOps::NetworkAcl,
        "security_group" => KindOps::SecurityGroup,
        _ => return None,
    })
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
        }
    }

    /// The single call that brings the object into being; returns its id.
    pub async fn create(
        self,
        aws: &Aws,
        stack: &str,
        address: &Address,
        attrs: &Attrs,
    ) -> Result<String, ProviderError> {
        match self {
            KindOps::Vpc => vpc::create(aws, stack, address, attrs).await,
            KindOps::Subnet => subnet::create(aws, stack, address, attrs).await,
            KindOps::InternetGateway => igw::create(aws, stack, address, attrs).await,
            KindOps::RouteTable => route_table::create(aws, stack, address, attrs).await,
            KindOps::NetworkAcl => nacl::create(aws, stack, address, attrs).await,
            KindOps::SecurityGroup => sg::create(aws, stack, address, attrs).await,
        }
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
        }
    }

    /// In-place changes from `before` to `after` (tags are handled by the caller).
    pub async fn update(self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        match self {
            KindOps::Vpc => vpc::update(aws, id, before, after).await,
            KindOps::Subnet => subnet::update(aws, id, before, after).await,
            KindOps::InternetGateway => igw::update(aws, id, before, after).await,
            KindOps::RouteTable => route_table::update(aws, id, before, after).await,
            KindOps::NetworkAcl => nacl::update(aws, id, before, after).await,
            KindOps::SecurityGroup => sg::update(aws, id, before, after).await,
        }
    }

    pub async fn delete(self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        match self {
            KindOps::Vpc => vpc::delete(aws, address, id).await,
            KindOps::Subnet => subnet::delete(aws, address, id).await,
            KindOps::InternetGateway => igw::delete(aws, address, id).await,
            KindOps::RouteTable => route_table::delete(aws, address, id).await,
            KindOps::NetworkAcl => nacl::delete(aws, address, id).await,
            KindOps::SecurityGroup => sg::delete(aws, address, id).await,
        }
    }
}
