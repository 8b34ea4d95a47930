//! The shape of each resource kind: which attributes it takes, their types, which
//! ones AWS computes, and which ones cannot change without replacing the object.
//!
//! One table drives validation (unknown attributes, types, did-you-mean), the planner
//! (what forces replacement, what is known after apply) and the docs.

use crate::{Attrs, Value};

/// The trellis setting every kind has: `protect: true` refuses a delete or replacement
/// without consent (a kind that holds data names its own in [`DataRules::protect`]).
pub const PROTECT: &str = "protect";

#[derive(Debug)]
pub enum Type {
    Str,
    Int,
    /// A launch template version: a number, or AWS's `$Default` or `$Latest`.
    Version,
    Bool,
    /// An IPv4 CIDR block in canonical form (`10.0.0.0/16`).
    Cidr,
    /// An IPv4 or IPv6 CIDR block in canonical form (`10.0.0.0/16`, `::/0`,
    /// `2600:1f18:6a2::/56`): a rule's or a route's range, of either family.
    IpCidr,
    /// One of a fixed set of words.
    Enum(&'static [&'static str]),
    /// An IP protocol: `tcp`, `udp`, `icmp`, `all` (also `-1`, `6`, `17`, `1`).
    Protocol,
    /// A port or a range of ports: `80` or `"8000-8010"`.
    Port,
    /// The id of an object of the named kind; usually `${kind.name}`, or a literal id
    /// of an object trellis does not manage.
    Ref(&'static str),
    /// An ordered list.
    List(&'static Type),
    /// An unordered collection: order in the spec does not matter, duplicates merge.
    Set(&'static Type),
    Object(&'static Object),
    /// String keys to string values (tags).
    Map,
    /// A JSON document (an IAM policy), written in the spec as a YAML mapping: its
    /// scalars are strings (JSON's numbers and booleans are read back as their text),
    /// and references inside it are resolved like any other.
    Document,
}

/// How an attribute gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    /// Set by the user or defaulted; a spec that leaves it out asks for the default.
    Optional,
    /// Set by the user, or chosen by AWS when left out (and then not compared).
    OptionalComputed,
    /// Only AWS sets it; the spec cannot.
    Computed,
}

#[derive(Debug, Clone, Copy)]
pub enum Default {
    None,
    Bool(bool),
    Int(i64),
    Str(&'static str),
    EmptyList,
    /// An empty mapping.
    EmptyMap,
    /// `<stack>-<name>`, the default for AWS names.
    StackName,
    /// The attribute `attr` of the object that the attribute `via` refers to: a
    /// group's launch template version defaults to the template's latest version.
    /// No default when `via` is a literal id rather than a reference.
    RefAttr {
        via: &'static str,
        attr: &'static str,
    },
}

/// What changing an attribute does to the running object on AWS, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Nothing that anyone using the object notices.
    None,
    /// A brief network interruption (an address moved, a route or a listener's actions
    /// swapped): seconds.
    Network,
    /// The object restarts or reboots (an instance stopped and started, a database's
    /// class changed): minutes.
    Restart,
    /// A new object replaces it.
    Replace,
    /// A new object replaces it and the data of the old one is gone.
    DataLoss,
}

impl Effect {
    /// The word the plan uses.
    pub fn word(self) -> &'static str {
        match self {
            Effect::None => "none",
            Effect::Network => "brief network interruption",
            Effect::Restart => "restart",
            Effect::Replace => "replacement",
            Effect::DataLoss => "data loss",
        }
    }
}

/// How much a finding matters, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];

    pub fn word(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.word().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("`{s}` is not a severity: low, medium, high or critical"))
    }
}

/// What a rule sees of one object of the plan: the attributes it will have, and the
/// planned objects its references name and that name it (the resolved graph).
pub struct Subject<'a> {
    pub attrs: &'a Attrs,
    /// The objects the attribute `name` refers to.
    pub refs: &'a dyn Fn(&str) -> Vec<&'a Attrs>,
    /// The objects of the kind `kind` that refer to this one, with their addresses.
    pub referrers: &'a dyn Fn(&str) -> Vec<(&'a crate::Address, &'a Attrs)>,
}

/// A check of a kind's planned objects for a risky setting (`trellis check`, and every
/// plan's findings).
pub struct Rule {
    /// trellis's id, which a resource's `waive:` names (`sg-ssh-open`).
    pub id: &'static str,
    /// The checkov policy that checks the same, where one exists.
    pub checkov: Option<&'static str>,
    pub severity: Severity,
    /// What is wrong, in a few words.
    pub title: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it in the spec.
    pub fix: &'static str,
    /// Each place the object breaks the rule, in words (`ingress tcp 22 from 0.0.0.0/0`).
    pub check: fn(&Subject) -> Vec<String>,
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rule").field("id", &self.id).field("severity", &self.severity).finish()
    }
}

/// How many addresses an object takes, and where.
#[derive(Debug)]
pub struct AddressNeeds {
    /// The attribute with how many (an auto scaling group's `max_size`); none: one.
    pub count: Option<&'static str>,
    /// The attribute naming its subnet (or subnets).
    pub subnets: &'static str,
    /// The attribute naming its instance type, which every zone of its subnets must
    /// offer.
    pub instance_type: Option<&'static str>,
    /// Or where its instance type is: `(attribute, attribute of what it refers to)` (a
    /// group's launch template's `instance_type`).
    pub instance_type_via: Option<(&'static str, &'static str)>,
}

/// What a change of an attribute interrupts, when the schema says so (see `Attr::effect`).
#[derive(Debug, Clone, Copy)]
pub struct Interrupts {
    pub effect: Effect,
    /// What happens and for roughly how long (`the instance stops and starts: a minute
    /// or two`).
    pub about: &'static str,
}

#[derive(Debug)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Type,
    pub mode: Mode,
    pub default: Default,
    /// AWS cannot change it on a live object: a change replaces the object.
    pub force_new: bool,
    pub doc: &'static str,
    /// Said in the plan when an update changes this attribute (what else happens).
    pub note: Option<&'static str>,
    /// A secret (a password): kept out of plans and states like `sensitive:` attributes.
    pub sensitive: bool,
    /// A setting of trellis, not of the cloud object (`protect`, `skip_final_snapshot`):
    /// never read from AWS, kept from the state; changing it alone calls nothing.
    pub local: bool,
    /// A path (relative to the spec) whose text the parser reads into the named
    /// attribute (`user_data_file` into `user_data`); never sent to AWS itself.
    pub file_of: Option<&'static str>,
    /// Sent to AWS, which does not give it back as it was given (a key pair's public
    /// key): kept from the state like a trellis setting (what AWS shows stands in for
    /// an object trellis has not recorded yet) and not checked after apply; a change of
    /// it still replaces or updates the object as `force_new` says.
    pub write_only: bool,
    /// The most characters AWS takes for it (a name): a longer literal is refused when
    /// the spec is loaded, at its place; a generated name is shortened to fit.
    pub max_len: Option<usize>,
    /// The fewest characters (a list: items) AWS takes, from its API model.
    pub min_len: Option<usize>,
    /// The smallest and largest number AWS takes, from its API model (or its reference).
    pub range: Option<(i64, i64)>,
    /// The pattern AWS's API model gives, as the model writes it (Java's syntax: the
    /// parser reads it so); a literal that does not match is refused.
    pub pattern: Option<&'static str>,
    /// A rule AWS states only in words (CloudWatch's periods, the characters EC2 takes
    /// in a description): the problem with a literal value, if any.
    pub valid: Option<fn(&Value) -> Option<String>>,
    /// What changing it in place does to the running object, when it is more than
    /// nothing (a `force_new` attribute replaces the object and says so itself).
    pub interrupts: Option<Interrupts>,
    /// A machine image's id: before an apply, trellis checks that the region has it.
    pub image: bool,
    /// For a computed attribute AWS sets only when asked (a subnet's IPv6 block): the
    /// setting that asks; left out (or `false`), the attribute is planned as none
    /// rather than "known after apply".
    pub computed_with: Option<&'static str>,
    /// For a `force_new` attribute: taking it away is made in place, and this is what
    /// the plan says it does (a read replica promoted to a database of its own keeps
    /// its data); setting or changing it still replaces the object.
    pub removed_in_place: Option<&'static str>,
}

/// How a kind that holds data is deleted: the trellis settings that guard it and the
/// final snapshot its delete takes. The planner and the engine read these names here.
#[derive(Debug)]
pub struct DataRules {
    /// What the plan calls one object (`database`).
    pub noun: &'static str,
    /// The boolean setting by which the spec consents to the loss.
    pub guard: Guard,
    /// Boolean setting: delete without a final snapshot (none for a kind that takes no
    /// snapshots).
    pub skip_final_snapshot: Option<&'static str>,
    /// The final snapshot's name, when the spec gives one.
    pub final_snapshot_name: Option<&'static str>,
    /// An object with this attribute set takes no final snapshot, for this reason (a
    /// read replica: AWS refuses `FinalDBSnapshotIdentifier` for one).
    pub no_final_snapshot: Option<(&'static str, &'static str)>,
    /// For a kind that takes no snapshots: what its delete loses, in the plan's words.
    pub lost: Option<&'static str>,
    /// A computed boolean attribute: `false` when the object holds nothing (an empty
    /// bucket), whose delete then loses no data and needs no consent.
    pub holds: Option<&'static str>,
}

/// The setting that consents to losing an object's data.
#[derive(Debug, Clone, Copy)]
pub enum Guard {
    /// Protected unless the spec says `NAME: false` (a database's `protect`).
    Protect(&'static str),
    /// Protected unless the spec says `NAME: true` (a bucket's `force_destroy`).
    Consent(&'static str),
}

impl DataRules {
    /// Whether the object, as read, holds data its delete would lose.
    pub fn holds_data(&self, live: &crate::Attrs) -> bool {
        self.holds.is_none_or(|a| live.get(a).and_then(crate::Value::as_bool) != Some(false))
    }

    /// Whether trellis's settings consent to the loss.
    pub fn consented(&self, settings: &crate::Attrs) -> bool {
        match self.guard {
            Guard::Protect(name) => settings.get(name).and_then(crate::Value::as_bool) == Some(false),
            Guard::Consent(name) => settings.get(name).and_then(crate::Value::as_bool) == Some(true),
        }
    }

    /// The setting as the spec writes its consent: `protect: false`, `force_destroy: true`.
    pub fn consent_words(&self) -> String {
        match self.guard {
            Guard::Protect(name) => format!("`{name}: false`"),
            Guard::Consent(name) => format!("`{name}: true`"),
        }
    }
}

/// An object that must restart to take a change of an object it refers to (a database
/// and the static parameters of its parameter group).
#[derive(Debug)]
pub struct RestartLink {
    /// The attribute that refers to the linked object (a `Type::Ref`).
    pub via: &'static str,
    /// The attribute of the linked object whose change waits for the restart.
    pub watched: &'static str,
    /// Computed, true while AWS reports a change waiting for the restart.
    pub pending: &'static str,
    /// Boolean trellis setting: trellis restarts the object itself.
    pub opt_in: &'static str,
    /// The plan's words: why the object waits when AWS reports it pending...
    pub pending_why: &'static str,
    /// ...after the linked object's address, when that changes in this run...
    pub changed_why: &'static str,
    /// ...and, on the linked object, before the objects that wait for a restart.
    pub waits: &'static str,
}

/// A check of an object against one it refers to, run when the spec is loaded:
/// `check(this, that, read)` with `read` giving the literal attributes of `that`;
/// returns the message and one hint.
#[derive(Debug)]
pub struct RefCheck {
    /// The attribute that refers to the other object.
    pub via: &'static str,
    pub check: RefCheckFn,
}

/// `check(this, that, read)`: the addresses of the two objects, and the literal
/// attributes of `that`; `Some((message, hint))` refuses the spec.
pub type RefCheckFn = fn(&str, &str, &dyn Fn(&str) -> Option<Value>) -> Option<(String, String)>;

/// A check across the attributes of one object, run after each attribute's own type
/// check. Returns the attribute to point at and the message.
pub type ObjectCheck = fn(&Attrs) -> Option<(&'static str, String)>;

#[derive(Debug)]
pub struct Object {
    pub attrs: &'static [Attr],
    pub check: Option<ObjectCheck>,
    /// Names people write for attributes called otherwise here (Terraform's, an earlier
    /// trellis's): the parser's hint names the right one.
    pub other_names: &'static [OtherName],
}

impl OtherName {
    /// The hint for someone who wrote `name`: `` `instance_class` is Terraform's name;
    /// here it is `db_instance_class`, as in awscli ``. Where one name stands for several
    /// attributes (`health_check`), each is named.
    pub fn hint(&self) -> String {
        let parts: Vec<String> = self.is.split(", ").map(|p| format!("`{p}`")).collect();
        match parts.as_slice() {
            [one] => format!("`{}` is {} name; here it is {one}, as in awscli", self.name, self.whose),
            many => format!(
                "`{}` is {} name; here each of its settings is an attribute of its own, as in awscli: {}",
                self.name,
                self.whose,
                many.join(", ")
            ),
        }
    }

    /// The attributes it stands for.
    pub fn attrs(&self) -> std::str::Split<'static, &'static str> {
        self.is.split(", ")
    }
}

/// An attribute's name elsewhere. The names here are awscli's flags; someone coming
/// from Terraform, or from an earlier trellis, writes another.
#[derive(Debug)]
pub struct OtherName {
    /// What is written: `instance_class`.
    pub name: &'static str,
    /// The attribute meant: `db_instance_class`.
    pub is: &'static str,
    /// Whose name it is, for the hint: `Terraform's`.
    pub whose: &'static str,
    /// An earlier trellis wrote states under this name: they are read under `is`.
    pub in_old_states: bool,
}

#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    pub doc: &'static str,
    pub object: Object,
    /// Prefix of the ids AWS gives objects of this kind (`vpc-`), for docs and checks.
    pub id_prefix: &'static str,
    /// A computed version counter: any change to a settable attribute other than
    /// `tags` makes a new version instead of replacing the object (launch templates).
    pub versioned: Option<&'static str>,
    /// An AWS name that trellis generates when the spec leaves it out. Such objects
    /// are replaced create-before-destroy: the new one gets a name of its own.
    pub generated_name: Option<&'static str>,
    /// Deleting or replacing an object of this kind loses data (a database): such a
    /// change is shown apart in the plan, and apply refuses it unless the object says
    /// `protect: false` or the run allows data loss.
    pub holds_data: Option<&'static DataRules>,
    /// A change of a linked object that this one must restart to take.
    pub restart: Option<&'static RestartLink>,
    /// Checks against the objects it refers to.
    pub ref_checks: &'static [RefCheck],
    /// Said in the plan for an in-place update that changes the cloud object (when the
    /// change takes effect), given the planned attributes.
    pub update_note: Option<fn(&Attrs) -> String>,
    /// Rewrites the attributes an earlier trellis recorded in a state into this shape,
    /// where more than a name changed (a mapping that became a list); the renames of
    /// `other_names` are made before it.
    pub upgrade: Option<fn(&mut Attrs)>,
    /// An in-place change of some attributes replaces the object's running instances in
    /// batches (an auto scaling group's instance refresh): the plan says how.
    pub rollout: Option<&'static RolloutRules>,
    /// Replaced new-first even without a generated name: nothing about it is unique in
    /// AWS, and it serves traffic (a fixed server, its registration in a target group),
    /// so the new object is made, and ready, before the old one goes.
    pub new_first: bool,
    /// The checks of its planned objects for risky settings.
    pub rules: &'static [Rule],
    /// It takes addresses in subnets: before an apply, trellis checks they have room.
    pub addresses: Option<AddressNeeds>,
    /// It hands out addresses from the range in this attribute (a subnet's
    /// `cidr_block`): a new one's room is the range less AWS's five.
    pub address_range: Option<&'static str>,
    /// The attribute naming the availability zone it is in (a subnet's).
    pub zone: Option<&'static str>,
    /// The account quota that caps how many of these an account may hold: an EC2
    /// account attribute (`vpc-max-elastic-ips`) or an RDS account quota
    /// (`rds:DBInstances`), checked before creates.
    pub account_limit: Option<&'static str>,
    /// The Terraform resource types (AWS provider) that are this kind, or a part of it:
    /// a spec that names one gets this kind as its hint, and `trellis convert` (when it
    /// exists) maps them here.
    pub terraform_types: &'static [TerraformType],
    /// The AWS call that makes it, `(service, operation)` as botocore names them: its
    /// request's members are the attributes (awscli's names), and a test holds each
    /// attribute's limits to what that operation's model says.
    pub create_call: Option<(&'static str, &'static str)>,
    /// The attribute whose value AWS takes as the object's id (RDS and IAM know their
    /// objects by name), and whether AWS lowercases it: a name the spec fixes is then
    /// the id a plan shows, and what refers to it is known before apply.
    pub id_is: Option<(&'static str, bool)>,
    /// Its objects that share a parent hold distinct values of one attribute, which
    /// orders them (a listener's rules and their priorities).
    pub unique: Option<&'static Unique>,
    /// What an object of it named by a literal id must show before anything may use it
    /// (`("status", "ISSUED")`: a certificate a listener serves): a pre-flight check.
    pub usable_when: Option<(&'static str, &'static str)>,
}

/// Objects of one kind under one parent hold distinct values of `attr`, evaluated in
/// its order (a listener's rules by priority: the first that matches a request takes
/// it). AWS refuses a value a sibling holds, so the engine changes the values of
/// several siblings together, in one call (`Provider::set_together`), after the
/// deletes that free a value and before the creates that take one; the plan says
/// where what an object matched goes when it moves or leaves.
#[derive(Debug)]
pub struct Unique {
    /// The attribute whose values are distinct (`priority`).
    pub attr: &'static str,
    /// The attribute naming the parent (`listener_arn`).
    pub among: &'static str,
    /// What one object is called in the plan (`rule`).
    pub noun: &'static str,
    /// Where what no sibling matches goes (`the listener's default action`).
    pub otherwise: &'static str,
    /// What an object matches, in a few words (`path /app1/*`).
    pub matches: fn(&Attrs) -> String,
    /// The call that sets the values together (`set-rule-priorities`), for the plan.
    pub call: &'static str,
}

/// A Terraform resource type that trellis writes as a kind (`aws_lb` is a
/// `load_balancer`), or as attributes of one (`aws_route_table_association` is a
/// route table's `subnet_ids`).
#[derive(Debug)]
pub struct TerraformType {
    /// The type: `aws_lb`.
    pub name: &'static str,
    /// The attributes it becomes, `, `-separated; empty when it is the whole kind.
    pub attrs: &'static str,
}

impl TerraformType {
    /// The hint for someone who wrote this type where `kind` was meant.
    pub fn hint(&self, kind: &str) -> String {
        if self.attrs.is_empty() {
            return format!("`{}` is Terraform's type; here it is `{kind}`", self.name);
        }
        let parts: Vec<String> = self.attrs.split(", ").map(|p| format!("`{p}`")).collect();
        format!("`{}` is Terraform's type; here it is written as {} of a `{kind}`", self.name, parts.join(" or "))
    }
}

/// How a kind rolls its instances onto a new configuration, by the names of the
/// attributes that say it. The planner reads these names to describe a rollout; the
/// kind's AWS module carries it out.
#[derive(Debug)]
pub struct RolloutRules {
    /// What one unit is called (`instance`).
    pub noun: &'static str,
    /// A change of any of these replaces the running instances.
    pub triggers: &'static [&'static str],
    /// The configuration the instances run, what a failed rollout returns to, and its
    /// name in the plan (`launch template version`).
    pub version: &'static str,
    pub version_noun: &'static str,
    /// How many instances run: the wanted count, else the smallest.
    pub capacity: &'static str,
    pub min_capacity: &'static str,
    /// The attribute naming the target groups whose health gates each batch.
    pub health_from: &'static str,
    /// Percentages of the capacity kept healthy, and allowed to run, during the roll.
    pub min_healthy: &'static str,
    pub max_healthy: &'static str,
    /// Seconds a new instance is given before its health counts, and the attribute that
    /// stands in when it is not set.
    pub warmup: &'static str,
    pub warmup_default: &'static str,
    pub checkpoints: &'static str,
    pub checkpoint_delay: &'static str,
    pub bake_time: &'static str,
    /// Alarms that stop and roll back the rollout when they go to ALARM.
    pub alarms: &'static str,
    pub auto_rollback: &'static str,
    pub skip_matching: &'static str,
}

impl Object {
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// What `name`, written where no attribute has it, stands for.
    pub fn other_name(&self, name: &str) -> Option<&'static OtherName> {
        self.other_names.iter().find(|o| o.name == name)
    }
}

impl Kind {
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        self.object.attr(name)
    }

    /// Attributes an earlier trellis recorded (in a state, a saved plan) under the names
    /// and shapes of today.
    pub fn upgrade_attrs(&self, attrs: &mut Attrs) {
        for o in self.object.other_names.iter().filter(|o| o.in_old_states && self.attr(o.name).is_none()) {
            if !attrs.contains_key(o.is) {
                if let Some(v) = attrs.remove(o.name) {
                    attrs.insert(o.is.to_string(), v);
                }
            }
        }
        if let Some(upgrade) = self.upgrade {
            upgrade(attrs);
        }
    }

    /// Attributes that belong to trellis, not to the cloud object.
    pub fn local_attrs(&self) -> impl Iterator<Item = &'static Attr> + '_ {
        self.object.attrs.iter().filter(|a| a.local)
    }

    /// Attributes AWS never gives back: trellis's settings and write-only attributes,
    /// both kept from the state when a live object is read.
    pub fn unread_attrs(&self) -> impl Iterator<Item = &'static Attr> + '_ {
        self.object.attrs.iter().filter(|a| a.local || a.write_only)
    }

    /// Names a reference may use: every attribute, settable or computed.
    pub fn attr_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.object.attrs.iter().map(|a| a.name)
    }
}

impl Attr {
    /// What changing it does to the running object of `kind`: its declaration, else a
    /// replacement for a `force_new` attribute (with data loss when the kind holds
    /// data), else nothing.
    pub fn effect(&self, kind: &Kind) -> (Effect, &'static str) {
        match (self.interrupts, self.force_new) {
            (Some(i), _) => (i.effect, i.about),
            (None, true) if kind.holds_data.is_some() => {
                (Effect::DataLoss, "a new object replaces it; the old one's data goes with it")
            }
            (None, true) => (Effect::Replace, "a new object replaces it"),
            (None, false) => (Effect::None, ""),
        }
    }

    pub fn settable(&self) -> bool {
        self.mode != Mode::Computed
    }

    /// The value an unset attribute takes, or `None` when it stays unset.
    pub fn default_value(&self, stack: &str, name: &str) -> Option<Value> {
        match self.default {
            Default::None => None,
            Default::Bool(b) => Some(Value::Bool(b)),
            Default::Int(i) => Some(Value::Int(i)),
            Default::Str(s) => Some(Value::str(s)),
            Default::EmptyList => Some(Value::List(Vec::new())),
            Default::EmptyMap => Some(Value::Map(std::collections::BTreeMap::new())),
            Default::StackName => Some(Value::Str(format!("{stack}-{name}"))),
            Default::RefAttr { .. } => None,
        }
    }
}

impl Type {
    /// A short name for messages and docs.
    pub fn describe(&self) -> String {
        match self {
            Type::Str => "string".into(),
            Type::Int => "integer".into(),
            Type::Version => "version number, `$Default` or `$Latest`".into(),
            Type::Bool => "boolean".into(),
            Type::Cidr => "IPv4 CIDR block".into(),
            Type::IpCidr => "IPv4 or IPv6 CIDR block".into(),
            Type::Enum(words) => format!("one of {}", words.join(", ")),
            Type::Protocol => "protocol (tcp, udp, icmp, all)".into(),
            Type::Port => "port or port range".into(),
            Type::Ref(kind) => format!("{kind} id"),
            Type::List(t) => format!("list of {}", t.describe()),
            Type::Set(t) => format!("set of {}", t.describe()),
            Type::Object(_) => "mapping".into(),
            Type::Map => "mapping of strings".into(),
            Type::Document => "JSON document, written as a YAML mapping".into(),
        }
    }
}

/// Sorts and de-duplicates a set's items so that two sets compare equal whatever
/// order they were written or read in.
pub fn normalize_set(items: &mut Vec<Value>) {
    items.sort();
    // Values not known yet are not the same value: two new subnets stay two items.
    items.dedup_by(|a, b| a == b && !a.has_unknown());
}

/// A kind is written as its name (`subnet`).
impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Kinds are statics, one per name: equal when their names are.
impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Kind {}

impl PartialEq<str> for Kind {
    fn eq(&self, other: &str) -> bool {
        self.name == other
    }
}
