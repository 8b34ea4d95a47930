//! The AWS side of each resource kind, one file per kind named after it
//! (`security_group.rs` for `security_group`): a type implementing [`AwsKind`], listed
//! once in [`REGISTRY`] beside the kind's schema. What the kinds of one service share
//! (ELB's tags and ARN batches, RDS's tag maps, IAM's paths) is in `crate::service`.
//!
//! Adding a kind: its schema file in `trellis-core/src/kinds/`, its file here, and its
//! line in `trellis_core::each_kind!`, which both crates' lists are made from. The
//! registry tests fail until they agree.

#[cfg(test)]
mod roundtrip;

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use trellis_core::schema::Kind;
use trellis_core::{kinds, Address, Attrs, ProviderError, Value};

use crate::aws::Aws;
use crate::service::Service;
pub(crate) use crate::util::Create;
use crate::util::Described;
use crate::util::Select;

/// The ids discover found, by kind.
pub type Found = BTreeMap<&'static str, BTreeSet<String>>;

/// How discover finds a kind's objects in a VPC trellis did not make.
#[derive(Clone, Copy, Debug)]
pub enum FoundBy {
    /// By listing what the VPC holds (`AwsKind::list_in_vpc`).
    Listing,
    /// Through what another object names (a group's launch template, a profile's role).
    Reference,
    /// Not at all, and why.
    Nothing(&'static str),
}

/// What discover has found so far in one VPC: the kinds before a kind in `REGISTRY`
/// are listed before it, so a kind may keep what belongs to them (a listener of a load
/// balancer found there).
pub(crate) struct InVpc<'a> {
    pub vpc: &'a str,
    pub found: &'a Found,
}

impl InVpc<'_> {
    /// The ids found of `kind`.
    pub fn ids(&self, kind: &Kind) -> impl Iterator<Item = &String> {
        self.found.get(kind.name).into_iter().flatten()
    }

    /// An EC2 filter `name` = this VPC's id.
    pub fn filter(&self, name: &str) -> aws_sdk_ec2::types::Filter {
        aws_sdk_ec2::types::Filter::builder().name(name).values(self.vpc).build()
    }
}

/// The AWS side of one kind. `describe`, `create`, `update` and `delete` are its own;
/// the rest has defaults for the common case (EC2's tags, nothing to configure, a
/// create looked up by the stack's tags).
#[async_trait]
pub(crate) trait AwsKind: Sync {
    /// All objects the selection names, with their attributes in schema shape.
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError>;

    /// The single call that brings the object into being; returns its id.
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError>;

    /// Everything after the create call: waits, attributes, rules, associations.
    async fn configure(&self, _aws: &Aws, _id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        Ok(())
    }

    /// In-place changes from `before` to `after` (tags are `sync_tags`'s).
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError>;

    /// Deletes it; `attrs` is the object as recorded.
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError>;

    /// The service it belongs to, which says what its kinds share (`service/`).
    fn service(&self) -> &'static Service {
        &crate::service::EC2
    }

    /// Brings the user's tags from `before` to `after`, as its service tags.
    async fn sync_tags(
        &self,
        aws: &Aws,
        id: &str,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        crate::service::sync_tags(self.service(), aws, id, before, after).await
    }

    /// Sets (`after`) or removes (`before` without `after`) trellis's own tags; `attrs`
    /// is the object as recorded (for a service that tags by the ARN in it).
    async fn retag(
        &self,
        aws: &Aws,
        id: &str,
        attrs: &Attrs,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        match crate::service::retag(self.service(), aws, attrs, before, after).await {
            Some(done) => done,
            None => self.sync_tags(aws, id, before, after).await,
        }
    }

    /// Where a create whose outcome is unknown may have left its object: everything of
    /// the kind tagged with the stack, and where its service's stack read does not see
    /// every name, the one the spec fixes.
    async fn find_created(&self, aws: &Aws, c: &Create<'_>) -> Result<Vec<Described>, ProviderError> {
        if self.service().find_by_name {
            return find_in_stack_or_by_name(self, aws, c).await;
        }
        self.describe(aws, Select::Stack(c.stack)).await
    }

    /// Whether sending the create again is harmless (a put, a registration): its
    /// outcome needs no look-up.
    fn create_is_idempotent(&self) -> bool {
        false
    }

    /// The id of the object AWS knows by the name `name`, if one has it (pre-flight:
    /// is a name the spec fixes free?): read by id where the service's ids are names,
    /// else unanswered unless the kind says how (names not unique in a region are not).
    async fn named(&self, aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
        if self.service().names_are_ids {
            return by_name_as_id(self, aws, name).await;
        }
        Ok(None)
    }

    /// Sets `attr` of several objects at once, each `(id, value)`, where the kind's
    /// objects hold distinct values of it (`Kind::unique`): AWS checks the new values
    /// as a whole, so objects may take each other's.
    async fn set_together(&self, _aws: &Aws, attr: &str, _objects: &[(String, Value)]) -> Result<(), ProviderError> {
        Err(ProviderError::new(None, format!("`{attr}` is not set for several objects at once")))
    }

    /// How discover finds objects of this kind.
    fn found_by(&self) -> FoundBy;

    /// The ids of this kind's objects in the VPC (for `FoundBy::Listing`).
    async fn list_in_vpc(&self, _aws: &Aws, _vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}

/// For a kind whose id is its name (RDS, IAM, key pairs, groups, alarms): the object
/// named `name`, read by id.
pub(crate) async fn by_name_as_id<K: AwsKind + ?Sized>(
    ops: &K,
    aws: &Aws,
    name: &str,
) -> Result<Option<String>, ProviderError> {
    let names = [name.to_string()];
    match ops.describe(aws, Select::Ids(&names)).await {
        Ok(found) => Ok(found.into_iter().next().map(|d| d.id)),
        Err(e) if crate::util::is_code(&e, crate::util::NOT_FOUND) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Where a create whose outcome is unknown may have left an object that a stack read
/// does not always see (RDS reads only the groups named with the stack's prefix): the
/// stack's objects, and the one the spec names, read by its name.
pub(crate) async fn find_in_stack_or_by_name<K: AwsKind + ?Sized>(
    ops: &K,
    aws: &Aws,
    c: &Create<'_>,
) -> Result<Vec<Described>, ProviderError> {
    let mut found = ops.describe(aws, Select::Stack(c.stack)).await?;
    if let Some(name) = c.address.kind.generated_name.and_then(|n| crate::util::str_attr(c.attrs, n)) {
        let names = [name.to_lowercase()];
        found.extend(ops.describe(aws, Select::Ids(&names)).await?);
    }
    Ok(found)
}

/// Declares each kind's module (`<kind>.rs`, holding its `Ops`) and registers it beside
/// its schema, for every kind of `trellis_core::each_kind!`: a kind's AWS side is its
/// file here, and its one line is in that list.
macro_rules! registry {
    ($($module:ident => $kind:ident,)*) => {
        $(mod $module;)*
        /// The registry: each kind of the schema (by its static, not by a string) with its
        /// AWS side, in `each_kind!`'s order, which discover lists kinds in.
        pub(crate) static REGISTRY: &[(&Kind, &dyn AwsKind)] = &[$((&kinds::$kind, &$module::Ops)),*];
    };
}

trellis_core::each_kind!(registry);

/// The AWS side of `kind`.
pub(crate) fn ops(kind: &Kind) -> Option<&'static dyn AwsKind> {
    REGISTRY.iter().find(|(k, _)| *k == kind).map(|(_, ops)| *ops)
}

#[cfg(test)]
mod registry_tests {
    use super::*;

    #[test]
    fn every_kind_of_the_schema_has_its_aws_side_once() {
        for kind in kinds::ALL {
            let entries = REGISTRY.iter().filter(|(k, _)| std::ptr::eq(*k, *kind)).count();
            assert_eq!(entries, 1, "kind {} has {entries} AWS implementations", kind.name);
        }
        assert_eq!(REGISTRY.len(), kinds::ALL.len(), "nothing registered outside the schema");
    }

    /// A kind is one file named after it, here and in trellis-core.
    #[test]
    fn each_kind_is_one_file_named_after_it() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let names = |dir: &std::path::Path| -> std::collections::BTreeSet<String> {
            std::fs::read_dir(dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".rs").map(str::to_string))
                .filter(|n| !matches!(n.as_str(), "mod" | "roundtrip"))
                .collect()
        };
        let kinds: std::collections::BTreeSet<String> = kinds::ALL.iter().map(|k| k.name.to_string()).collect();
        assert_eq!(names(&here.join("src/kinds")), kinds, "trellis-aws/src/kinds holds one file per kind");
        assert_eq!(
            names(&here.join("../trellis-core/src/kinds")),
            kinds,
            "trellis-core/src/kinds holds one file per kind"
        );
    }
}
