//! What a plan asks of the live account before its first change (`plan` shows the
//! answers, `apply` stops on a failed one): the checks that would otherwise fail half
//! way. Built by the planner from what the schema declares, answered by the provider
//! in batched reads, judged by the planner again. No IO here.

use serde::{Deserialize, Serialize};

use crate::Address;

/// The questions, each naming the resource that asks it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Questions {
    /// Machine images named by id: do they exist in the region?
    pub images: Vec<(Address, String)>,
    /// Objects named by a literal id or name that the stack does not make: do they
    /// exist? (kind, id)
    pub objects: Vec<(Address, &'static str, String)>,
    /// Objects named by a literal id inside another attribute (a listener's
    /// certificates), of kinds with `Kind::usable_when`: are they usable yet? (kind, id)
    /// One AWS does not show under the kind (an IAM certificate) is not judged.
    pub usable: Vec<(Address, &'static str, String)>,
    /// A fixed name a create will take: is it free? (kind, name)
    pub names: Vec<(Address, &'static str, String)>,
    /// Subnets by id (those the account has): how many addresses are free, and in
    /// which zone?
    pub subnets: Vec<String>,
    /// Instance types: in which zones are they offered?
    pub instance_types: Vec<String>,
    /// EC2 account attributes that cap a kind (`vpc-max-elastic-ips`): how many, and
    /// how many are used?
    pub limits: Vec<&'static str>,
}

/// What the account answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answers {
    /// The images of `Questions::images` that exist.
    pub images: Vec<String>,
    /// The (kind, id) of `Questions::objects` that exist.
    pub objects: Vec<(String, String)>,
    /// Of `Questions::usable`, the objects found that are not usable: (kind, id, what
    /// the attribute shows).
    #[serde(default)]
    pub unusable: Vec<(String, String, String)>,
    /// The (kind, name) of `Questions::names` that are taken, with the object's id.
    pub taken: Vec<(String, String, String)>,
    /// Free addresses by subnet id.
    pub free_addresses: Vec<(String, i64)>,
    /// The zone of each subnet read.
    #[serde(default)]
    pub subnet_zones: Vec<(String, String)>,
    /// (instance type, zone) offered.
    #[serde(default)]
    pub offered: Vec<(String, String)>,
    /// (limit, the account's maximum, how many it holds).
    #[serde(default)]
    pub limits: Vec<(String, i64, i64)>,
}

/// One check of the live account, as the plan records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub address: Address,
    /// `image`, `exists`, `name`, `addresses`.
    pub check: String,
    pub ok: bool,
    /// What was checked and what was found, in words.
    pub detail: String,
}
