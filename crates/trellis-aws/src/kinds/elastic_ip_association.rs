//! `elastic_ip_association`: an address associated with an instance, made and ended
//! apart from both. AWS has no tags on an association: it is read by its id through
//! DescribeAddresses, and a create whose answer was lost is looked for on its address.

use async_trait::async_trait;
use aws_sdk_ec2::operation::associate_address::builders::AssociateAddressFluentBuilder;
use aws_sdk_ec2::types::{Address as Eip, Filter};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{aws_err, described_with, is_code, opt_str, str_attr, Described, Select};

/// The AWS side of `elastic_ip_association`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c.attrs).await
    }
    /// Every attribute forces a new association.
    async fn update(&self, _aws: &Aws, _id: &str, _before: &Attrs, _after: &Attrs) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn delete(&self, aws: &Aws, _address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, id).await
    }
    /// An association carries no tags.
    async fn sync_tags(
        &self,
        _aws: &Aws,
        _id: &str,
        _before: Option<&Value>,
        _after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
    /// No tags to find it by: the address the spec names, if it is associated with the
    /// spec's instance.
    async fn find_created(&self, aws: &Aws, c: &Create<'_>) -> Result<Vec<Described>, ProviderError> {
        let Some(allocation) = str_attr(c.attrs, "allocation_id") else { return Ok(Vec::new()) };
        let found = addresses(aws, Filter::builder().name("allocation-id").values(allocation).build()).await?;
        let instance = str_attr(c.attrs, "instance_id");
        Ok(found.iter().filter(|a| a.instance_id() == instance).filter_map(observed).collect())
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("an address found associated with an instance is written as the address's `instance_id`")
    }
}

async fn addresses(aws: &Aws, filter: Filter) -> Result<Vec<Eip>, ProviderError> {
    aws.call(Call::Describe).await;
    let out = aws.ec2.describe_addresses().filters(filter).send().await.map_err(aws_err)?;
    Ok(out.addresses.unwrap_or_default())
}

/// An address's association, if it has one.
fn observed(a: &Eip) -> Option<Described> {
    let id = a.association_id()?;
    Some(described_with(id, Default::default(), observe(a)))
}

fn observe(a: &Eip) -> Vec<(&'static str, Value)> {
    vec![
        ("allocation_id", opt_str(a.allocation_id())),
        ("instance_id", opt_str(a.instance_id())),
        ("public_ip", opt_str(a.public_ip())),
    ]
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    // The state knows associations by id; none carries the stack's tag.
    let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = addresses(aws, Filter::builder().name("association-id").set_values(Some(ids.to_vec())).build()).await?;
    Ok(found.iter().filter_map(observed).collect())
}

fn request(b: AssociateAddressFluentBuilder, attrs: &Attrs) -> AssociateAddressFluentBuilder {
    b.set_allocation_id(str_attr(attrs, "allocation_id").map(str::to_string))
        .set_instance_id(str_attr(attrs, "instance_id").map(str::to_string))
}

pub(crate) async fn create(aws: &Aws, attrs: &Attrs) -> Result<String, ProviderError> {
    aws.call(Call::Mutate).await;
    let out = request(aws.once.ec2.associate_address(), attrs).send().await.map_err(aws_err)?;
    out.association_id().map(str::to_string).ok_or_else(|| ProviderError::new(None, "AssociateAddress returned no id"))
}

pub(crate) async fn delete(aws: &Aws, id: &str) -> Result<(), ProviderError> {
    aws.call(Call::Mutate).await;
    match aws.ec2.disassociate_address().association_id(id).send().await.map_err(aws_err) {
        // Ended already: by hand, or with its instance.
        Err(e) if is_code(&e, &["InvalidAssociationID.NotFound"]) => Ok(()),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn an_association_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("elastic_ip_association", &["allocation_id", "instance_id"], vec![]),
        ) {
            let sent = request(roundtrip::ec2().associate_address(), &attrs);
            let i = sent.as_input();
            // AWS describes the address with the association the request made.
            let answer = Eip::builder()
                .association_id("eipassoc-1")
                .set_allocation_id(i.get_allocation_id().clone())
                .set_instance_id(i.get_instance_id().clone())
                .build();
            let back = observed(&answer).expect("associated").attrs;
            gives_back(&attrs, &back, &["allocation_id", "instance_id"])?;
        }
    }
}
