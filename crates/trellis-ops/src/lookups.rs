//! Answering the spec's `lookups:`: in rounds, each round every lookup whose filters
//! are known (those that filter on another lookup wait for its answer), the round's
//! lookups read at once. A lookup that finds nothing, or several where one is wanted,
//! is an error at its place in the spec, naming its filters.

use trellis_aws::Aws;
use trellis_core::lookup::Choice;
use trellis_spec::{Diagnostic, Diagnostics, LookupValues, Spec};

use crate::{Error, Result};

/// Every lookup's answer, or the spec's errors about them.
pub(crate) async fn answer(aws: &Aws, spec: &Spec) -> Result<LookupValues> {
    let mut answers = LookupValues::new();
    let mut left: Vec<&trellis_spec::Lookup> = spec.lookups.values().collect();
    while !left.is_empty() {
        let (ready, waiting): (Vec<_>, Vec<_>) = left.into_iter().partition(|l| l.query(&answers).is_some());
        if ready.is_empty() {
            // The parser refuses cycles; a lookup still waiting names one that failed.
            break;
        }
        let queries: Vec<_> = ready.iter().filter_map(|l| l.query(&answers)).collect();
        let results = aws.lookups(&queries).await;
        let mut problems = Vec::new();
        for ((l, q), result) in ready.iter().zip(&queries).zip(results) {
            let found = result
                .map_err(|e| Error::Aws(format!("looking up `{}` ({}) failed: AWS {e}", l.address, q.describe())))?;
            let kind = l.address.kind;
            match kind.choose(found) {
                Ok(attrs) => {
                    answers.insert(l.address.clone(), attrs);
                }
                Err(Choice::Nothing) => problems.push(
                    Diagnostic::new(
                        format!("`{}` found no {} with {} in {}", l.address, noun(kind.name), q.describe(), aws.region()),
                        Some(l.span),
                    )
                    .help("check the filters and the region; a lookup only reads what already exists"),
                ),
                Err(Choice::Several(ids)) => problems.push(
                    Diagnostic::new(
                        format!(
                            "`{}` found {} {}s with {}, where one is wanted: {}",
                            l.address,
                            ids.len(),
                            noun(kind.name),
                            q.describe(),
                            ids.join(", ")
                        ),
                        Some(l.span),
                    )
                    .help(if kind.name == "subnet" {
                        "add a filter that tells them apart (`availability_zone`, `tags`), or look up `subnets` for all of them"
                    } else {
                        "add a filter that tells them apart, such as `tags`"
                    }),
                ),
            }
        }
        if !problems.is_empty() {
            return Err(Error::Spec(Diagnostics::new(spec.file.clone(), problems)));
        }
        left = waiting;
    }
    Ok(answers)
}

fn noun(kind: &str) -> String {
    kind.replace('_', " ")
}
