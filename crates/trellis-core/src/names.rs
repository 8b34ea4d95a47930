//! The AWS names trellis makes up for objects whose spec leaves the name out, one rule
//! for the planner (which says the name a create will use) and the AWS crate (which
//! uses it).

use crate::Address;

/// `<stack>-<resource label>` with only letters, digits and hyphens, ending in `tail`
/// (empty, or the few random hex digits a replacement's second name takes), at most
/// `max` characters long.
pub fn generated_name(stack: &str, address: &Address, max: usize, tail: &str) -> String {
    let mut base: String = format!("{stack}-{}", address.label())
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    base.truncate(max.saturating_sub(tail.len()));
    let base = base.trim_end_matches('-');
    format!("{base}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_the_stack_s_and_the_resource_s_within_the_limit() {
        let a: Address = "target_group.web_blue[\"a\"]".parse().unwrap();
        let name = generated_name("shop", &a, 32, "");
        assert!(name.starts_with("shop-web-blue") && name.len() <= 32, "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{name}");
        let long = generated_name("a-very-long-stack-name", &a, 16, "-1f2e");
        assert!(long.len() <= 16 && long.ends_with("-1f2e"), "{long}");
    }
}
