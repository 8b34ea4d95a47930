//! Lookups: objects the stack does not own, found in the account when a plan is made
//! (the default VPC, a shared security group, the region's zones, an AMI), written
//! under `lookups:` and read as `${lookup.vpc.default}`. This table says, per lookup
//! kind, which filters it takes and what it gives; `trellis-aws/src/lookups.rs` reads
//! them. Choosing among what AWS answered (one wanted, the newest, all of them) is here,
//! pure.

use std::collections::BTreeMap;
use std::fmt;

use crate::schema::Type;
use crate::{Attrs, Value};

/// One kind of lookup: its filters and the attributes it gives.
#[derive(Debug)]
pub struct LookupKind {
    pub name: &'static str,
    pub doc: &'static str,
    pub filters: &'static [LookupFilter],
    pub attrs: &'static [LookupAttr],
    /// What `${lookup.KIND.NAME}` without an attribute reads.
    pub default_attr: &'static str,
    /// How the one answer is chosen among the objects that match.
    pub pick: Pick,
    /// Filters that must be given, as alternatives: one of these sets, each whole.
    /// Empty: any filter, or none.
    pub needs: &'static [&'static [&'static str]],
}

#[derive(Debug)]
pub struct LookupFilter {
    pub name: &'static str,
    pub ty: Type,
    pub doc: &'static str,
    /// The value when the spec leaves the filter out.
    pub default: Option<&'static str>,
}

#[derive(Debug)]
pub struct LookupAttr {
    pub name: &'static str,
    /// True: a list (`names`, `ids`), usable where the spec wants a list.
    pub list: bool,
    /// The kind whose id this is, so it fits an attribute that wants one (`vpc_id`).
    pub id_of: Option<&'static str>,
    pub doc: &'static str,
}

/// How the answer is made from the matching objects.
#[derive(Debug, Clone, Copy)]
pub enum Pick {
    /// Exactly one object must match.
    One,
    /// The one whose `by` attribute sorts last (the newest AMI).
    Newest { by: &'static str },
    /// All of them, as lists: each `(list attribute, item attribute)`, in order of the
    /// item attribute.
    All(&'static [(&'static str, &'static str)]),
}

const STR_LIST: Type = Type::List(&Type::Str);

macro_rules! filter {
    ($name:literal, $ty:expr, $doc:literal) => {
        LookupFilter { name: $name, ty: $ty, doc: $doc, default: None }
    };
}

macro_rules! attr {
    ($name:literal, $doc:literal) => {
        LookupAttr { name: $name, list: false, id_of: None, doc: $doc }
    };
    ($name:literal, id_of $kind:literal, $doc:literal) => {
        LookupAttr { name: $name, list: false, id_of: Some($kind), doc: $doc }
    };
    ($name:literal, list, $doc:literal) => {
        LookupAttr { name: $name, list: true, id_of: None, doc: $doc }
    };
    ($name:literal, list id_of $kind:literal, $doc:literal) => {
        LookupAttr { name: $name, list: true, id_of: Some($kind), doc: $doc }
    };
}

const TAGS: LookupFilter = filter!("tags", Type::Map, "Tags the object must carry, each with this value.");

pub static VPC: LookupKind = LookupKind {
    name: "vpc",
    doc: "One VPC: the region's default one (`default: true`), or one by id, CIDR block or tags.",
    filters: &[
        filter!("id", Type::Ref("vpc"), "The VPC's id."),
        filter!("default", Type::Bool, "`true`: the region's default VPC."),
        filter!("cidr_block", Type::Cidr, "The VPC's primary CIDR block."),
        TAGS,
    ],
    attrs: &[
        attr!("id", id_of "vpc", "The VPC's id."),
        attr!("cidr_block", "Its primary CIDR block."),
        attr!("owner_id", "The account that owns it."),
    ],
    default_attr: "id",
    pick: Pick::One,
    needs: &[&["id"], &["default"], &["cidr_block"], &["tags"]],
};

const SUBNET_FILTERS: &[LookupFilter] = &[
    filter!("id", Type::Ref("subnet"), "The subnet's id."),
    filter!("vpc_id", Type::Ref("vpc"), "The VPC it is in."),
    filter!("availability_zone", Type::Str, "Its availability zone (`us-east-1a`)."),
    filter!("default_for_az", Type::Bool, "`true`: the default subnet of its zone (those of the default VPC)."),
    filter!("cidr_block", Type::Cidr, "Its CIDR block."),
    TAGS,
];

pub static SUBNET: LookupKind = LookupKind {
    name: "subnet",
    doc: "One subnet, by id, or by its VPC, zone, CIDR block or tags.",
    filters: SUBNET_FILTERS,
    attrs: &[
        attr!("id", id_of "subnet", "The subnet's id."),
        attr!("vpc_id", id_of "vpc", "The VPC it is in."),
        attr!("cidr_block", "Its CIDR block."),
        attr!("availability_zone", "Its availability zone."),
    ],
    default_attr: "id",
    pick: Pick::One,
    needs: &[&["id"], &["vpc_id"], &["availability_zone"], &["default_for_az"], &["cidr_block"], &["tags"]],
};

pub static SUBNETS: LookupKind = LookupKind {
    name: "subnets",
    doc: "Every subnet that matches (say all of a VPC's), as a list of ids for a list attribute \
          (`vpc_zone_identifier`, `subnet_ids`, `subnets`).",
    filters: SUBNET_FILTERS,
    attrs: &[attr!("ids", list id_of "subnet", "The subnets' ids, in order.")],
    default_attr: "ids",
    pick: Pick::All(&[("ids", "id")]),
    needs: &[&["id"], &["vpc_id"], &["availability_zone"], &["default_for_az"], &["cidr_block"], &["tags"]],
};

pub static SECURITY_GROUP: LookupKind = LookupKind {
    name: "security_group",
    doc: "One security group, by id, or by name, VPC or tags.",
    filters: &[
        filter!("id", Type::Ref("security_group"), "The group's id."),
        filter!("group_name", Type::Str, "Its name (`default` is each VPC's default group)."),
        filter!("vpc_id", Type::Ref("vpc"), "The VPC it is in."),
        TAGS,
    ],
    attrs: &[
        attr!("id", id_of "security_group", "The group's id."),
        attr!("group_name", "Its name."),
        attr!("vpc_id", id_of "vpc", "The VPC it is in."),
    ],
    default_attr: "id",
    pick: Pick::One,
    needs: &[&["id"], &["group_name"], &["tags"]],
};

pub static AVAILABILITY_ZONES: LookupKind = LookupKind {
    name: "availability_zones",
    doc: "The region's availability zones, as lists of names and zone ids.",
    filters: &[LookupFilter {
        name: "state",
        ty: Type::Enum(&["available", "information", "impaired", "unavailable"]),
        doc: "The zones' state.",
        default: Some("available"),
    }],
    attrs: &[
        attr!("names", list, "The zones' names (`us-east-1a`, ...), in order."),
        attr!("zone_ids", list, "Their zone ids (`use1-az1`, ...), in the order of the names."),
    ],
    default_attr: "names",
    pick: Pick::All(&[("names", "name"), ("zone_ids", "zone_id")]),
    needs: &[],
};

pub static AMI: LookupKind = LookupKind {
    name: "ami",
    doc: "A machine image: the one a public SSM parameter names \
          (`ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64`), \
          or the newest whose name matches `name` (`*` and `?` match any text and any one \
          character) among those of `owners`.",
    filters: &[
        filter!("ssm_parameter", Type::Str, "An SSM parameter whose value is an AMI id."),
        filter!("owners", STR_LIST, "Account ids, or `amazon`, `self`, `aws-marketplace`."),
        filter!("name", Type::Str, "A name pattern, e.g. `al2023-ami-2023.*-x86_64`."),
        filter!("architecture", Type::Enum(&["x86_64", "arm64", "i386"]), "The image's architecture."),
    ],
    attrs: &[
        attr!("id", "The image's id (`image_id`)."),
        attr!("name", "Its name."),
        attr!("creation_date", "When it was made."),
    ],
    default_attr: "id",
    pick: Pick::Newest { by: "creation_date" },
    needs: &[&["ssm_parameter"], &["owners", "name"]],
};

/// Every lookup kind.
pub static ROUTE53_ZONE: LookupKind = LookupKind {
    name: "route53_zone",
    doc: "One Route53 hosted zone by its domain (a zone the registrar made, or another stack's), for records and certificates' validation.",
    filters: &[
        filter!("name", Type::Str, "The zone's domain (`example.com`)."),
        filter!("private_zone", Type::Bool, "`true`: the private zone of that name, `false`: the public one (left out, whichever is the only one)."),
    ],
    attrs: &[
        attr!("id", id_of "route53_zone", "The zone's id (`Z...`)."),
        attr!("name", "Its domain."),
        attr!("name_servers", list, "Its name servers (a public zone's)."),
    ],
    default_attr: "id",
    pick: Pick::One,
    needs: &[&["name"]],
};

pub static ROUTE_TABLE: LookupKind = LookupKind {
    name: "route_table",
    doc: "One route table the stack does not own (another team's, a VPC's main one), for a `route` to add to: by id, by the subnet explicitly associated with it, by its VPC's main table (`vpc_id` with `main: true`), or by tags.",
    filters: &[
        filter!("id", Type::Ref("route_table"), "The table's id."),
        filter!("vpc_id", Type::Ref("vpc"), "The VPC it is in."),
        filter!("subnet_id", Type::Ref("subnet"), "A subnet explicitly associated with it."),
        filter!("main", Type::Bool, "`true`: its VPC's main table."),
        TAGS,
    ],
    attrs: &[
        attr!("id", id_of "route_table", "The table's id."),
        attr!("vpc_id", id_of "vpc", "The VPC it is in."),
        attr!("owner_id", "The account that owns it."),
    ],
    default_attr: "id",
    pick: Pick::One,
    needs: &[&["id"], &["subnet_id"], &["vpc_id"], &["tags"]],
};

pub static INSTANCE: LookupKind = LookupKind {
    name: "instance",
    doc: "One EC2 instance the stack does not own (a bastion, a server made by hand), by id, or by tags, subnet or VPC; a running one unless `instance_state_name` says otherwise.",
    filters: &[
        filter!("id", Type::Ref("instance"), "The instance's id."),
        filter!("vpc_id", Type::Ref("vpc"), "The VPC it is in."),
        filter!("subnet_id", Type::Ref("subnet"), "The subnet it is in."),
        LookupFilter {
            name: "instance_state_name",
            ty: Type::Enum(&["pending", "running", "stopping", "stopped"]),
            doc: "Its state.",
            default: Some("running"),
        },
        TAGS,
    ],
    attrs: &[
        attr!("id", id_of "instance", "The instance's id."),
        attr!("private_ip", "Its private address."),
        attr!("public_ip", "Its public address, if it has one."),
        attr!("subnet_id", id_of "subnet", "The subnet it is in."),
        attr!("vpc_id", id_of "vpc", "The VPC it is in."),
        attr!("availability_zone", "Its availability zone."),
        attr!("instance_type", "Its type."),
        attr!("network_interface_id", "Its primary network interface (a route's target)."),
    ],
    default_attr: "id",
    pick: Pick::One,
    needs: &[&["id"], &["tags"], &["subnet_id"], &["vpc_id"]],
};

pub static ELB_SERVICE_ACCOUNT: LookupKind = LookupKind {
    name: "elb_service_account",
    doc: "The account through which Elastic Load Balancing writes a load balancer's access logs in the stack's region, for the log bucket's policy (`Principal: { AWS: \"${lookup.elb_service_account.NAME.arn}\" }`). Known without a call (AWS publishes one per region). Regions opened since August 2022 have none: there the policy names the service principal `logdelivery.elasticloadbalancing.amazonaws.com`, and this lookup fails saying so.",
    filters: &[],
    attrs: &[
        attr!("id", "The account's id."),
        attr!("arn", "The account's root, as a policy principal: `arn:aws:iam::<id>:root`."),
    ],
    default_attr: "id",
    pick: Pick::One,
    needs: &[],
};

pub static ALL: &[&LookupKind] = &[
    &VPC,
    &SUBNET,
    &SUBNETS,
    &SECURITY_GROUP,
    &AVAILABILITY_ZONES,
    &AMI,
    &ROUTE53_ZONE,
    &ROUTE_TABLE,
    &INSTANCE,
    &ELB_SERVICE_ACCOUNT,
];

pub fn get(name: &str) -> Option<&'static LookupKind> {
    ALL.iter().copied().find(|k| k.name == name)
}

impl LookupKind {
    pub fn filter(&self, name: &str) -> Option<&'static LookupFilter>
    where
        Self: 'static,
    {
        self.filters.iter().find(|f| f.name == name)
    }

    pub fn attr(&self, name: &str) -> Option<&'static LookupAttr>
    where
        Self: 'static,
    {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// What is missing from `given` (the filters written): `None` when enough is given.
    pub fn missing(&self, given: &[&str]) -> Option<String> {
        if self.needs.is_empty() || self.needs.iter().any(|set| set.iter().all(|f| given.contains(f))) {
            return None;
        }
        let sets: Vec<String> = self.needs.iter().map(|set| format!("`{}`", set.join("` and `"))).collect();
        Some(match sets.as_slice() {
            [one] => one.clone(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
            [] => unreachable!("needs is not empty"),
        })
    }

    /// The answer made from the objects AWS reported as matching, or why there is none.
    pub fn choose(&self, mut found: Vec<Attrs>) -> Result<Attrs, Choice> {
        let id = |a: &Attrs| a.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
        match self.pick {
            Pick::One if found.len() > 1 => {
                let mut ids: Vec<String> = found.iter().map(id).collect();
                ids.sort();
                Err(Choice::Several(ids))
            }
            _ if found.is_empty() => Err(Choice::Nothing),
            Pick::One => Ok(found.remove(0)),
            Pick::Newest { by } => {
                found.sort_by(|a, b| a.get(by).cmp(&b.get(by)).then_with(|| id(a).cmp(&id(b))));
                Ok(found.pop().expect("not empty"))
            }
            Pick::All(lists) => {
                let order = lists[0].1;
                found.sort_by(|a, b| a.get(order).cmp(&b.get(order)));
                Ok(lists
                    .iter()
                    .map(|(list, item)| {
                        let items = found.iter().map(|a| a.get(*item).cloned().unwrap_or(Value::Null)).collect();
                        (list.to_string(), Value::List(items))
                    })
                    .collect())
            }
        }
    }
}

/// Why a lookup has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Nothing,
    /// More than one matched where one is wanted: their ids.
    Several(Vec<String>),
}

/// A lookup's address: `lookup.KIND.NAME`.
#[derive(Clone)]
pub struct LookupAddress {
    pub kind: &'static LookupKind,
    pub name: String,
}

impl LookupAddress {
    /// `KIND.NAME` (as written under `lookups:`) as an address, if `KIND` is a lookup kind.
    pub fn parse(kind: &str, name: &str) -> Option<Self> {
        Some(LookupAddress { kind: get(kind)?, name: name.to_string() })
    }

    fn key(&self) -> (&str, &str) {
        (self.kind.name, &self.name)
    }
}

impl PartialEq for LookupAddress {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for LookupAddress {}

impl PartialOrd for LookupAddress {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for LookupAddress {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl fmt::Display for LookupAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lookup.{}.{}", self.kind.name, self.name)
    }
}

impl fmt::Debug for LookupAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LookupAddress({self})")
    }
}

/// One lookup to make: its kind and its filters, every value known.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupQuery {
    pub address: LookupAddress,
    pub filters: BTreeMap<String, Value>,
}

impl LookupQuery {
    /// The filters as a person reads them: `default: true, tags: {Team: web}`.
    pub fn describe(&self) -> String {
        fn show(v: &Value) -> String {
            match v {
                Value::Str(s) => s.clone(),
                Value::List(items) => format!("[{}]", items.iter().map(show).collect::<Vec<_>>().join(", ")),
                Value::Map(m) => {
                    format!("{{{}}}", m.iter().map(|(k, v)| format!("{k}: {}", show(v))).collect::<Vec<_>>().join(", "))
                }
                other => other.to_string(),
            }
        }
        if self.filters.is_empty() {
            return "no filters".into();
        }
        self.filters.iter().map(|(k, v)| format!("{k}: {}", show(v))).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, &str)]) -> Attrs {
        pairs.iter().map(|(k, v)| (k.to_string(), Value::str(*v))).collect()
    }

    #[test]
    fn one_wanted_refuses_none_and_several() {
        assert_eq!(VPC.choose(vec![]), Err(Choice::Nothing));
        let two = vec![obj(&[("id", "vpc-2")]), obj(&[("id", "vpc-1")])];
        assert_eq!(VPC.choose(two), Err(Choice::Several(vec!["vpc-1".into(), "vpc-2".into()])));
        assert_eq!(VPC.choose(vec![obj(&[("id", "vpc-1")])]).unwrap()["id"], Value::str("vpc-1"));
    }

    #[test]
    fn the_newest_image_wins() {
        let images = vec![
            obj(&[("id", "ami-b"), ("creation_date", "2026-03-01T00:00:00.000Z")]),
            obj(&[("id", "ami-c"), ("creation_date", "2026-05-01T00:00:00.000Z")]),
            obj(&[("id", "ami-a"), ("creation_date", "2026-01-01T00:00:00.000Z")]),
        ];
        assert_eq!(AMI.choose(images).unwrap()["id"], Value::str("ami-c"));
    }

    #[test]
    fn all_of_them_become_lists_in_order() {
        let zones = vec![obj(&[("name", "r-1b"), ("zone_id", "z2")]), obj(&[("name", "r-1a"), ("zone_id", "z1")])];
        let got = AVAILABILITY_ZONES.choose(zones).unwrap();
        assert_eq!(got["names"], Value::List(vec![Value::str("r-1a"), Value::str("r-1b")]));
        assert_eq!(got["zone_ids"], Value::List(vec![Value::str("z1"), Value::str("z2")]));
        assert_eq!(SUBNETS.choose(vec![]), Err(Choice::Nothing));
    }

    #[test]
    fn required_filters_are_named() {
        assert_eq!(AMI.missing(&["ssm_parameter"]), None);
        assert_eq!(AMI.missing(&["owners", "name"]), None);
        assert_eq!(AMI.missing(&["owners"]).unwrap(), "`ssm_parameter` or `owners` and `name`");
        assert!(AVAILABILITY_ZONES.missing(&[]).is_none());
        assert!(VPC.missing(&[]).is_some());
    }

    #[test]
    fn every_default_attribute_exists() {
        for k in ALL {
            assert!(k.attr(k.default_attr).is_some(), "{}", k.name);
            for f in k.filters {
                assert!(f.doc.ends_with('.'), "{}.{}", k.name, f.name);
            }
        }
    }
}
