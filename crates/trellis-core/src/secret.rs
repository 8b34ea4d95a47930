//! Sensitive values: what the state and plans keep instead of a secret.
//!
//! A secret is kept as `sha256:<salt>:<digest>`. The salt is fixed per stack, object
//! and attribute, and stored with the digest; the same secret gives the same digest
//! under the same salt, so a changed secret shows as a change without the secret
//! ever being written down.

use sha2::{Digest, Sha256};

use crate::{Address, Value};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The salt for a new secret of `attr` of `address` in `stack`.
pub fn new_salt(stack: &str, address: &Address, attr: &str) -> String {
    let h = Sha256::digest(format!("trellis-salt\0{stack}\0{address}\0{attr}").as_bytes());
    hex(&h[..8])
}

/// The salt of a digest made by [`digest`].
pub fn salt_of(digest: &str) -> Option<&str> {
    digest.strip_prefix("sha256:")?.split(':').next()
}

/// `sha256:<salt>:<hex>` of `secret` under `salt`.
pub fn digest(salt: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    format!("sha256:{salt}:{}", hex(&h.finalize()))
}

/// Replaces a secret read in plain text (or given) by its digest: under the salt of
/// `previous` when that is a digest already, else under a new salt.
pub fn redact(value: &Value, previous: Option<&Value>, new_salt: impl FnOnce() -> String) -> Value {
    let salt = match previous {
        Some(Value::Sensitive(d)) => salt_of(d).map(str::to_string),
        _ => None,
    }
    .unwrap_or_else(new_salt);
    match value {
        Value::Str(s) => Value::Sensitive(digest(&salt, s)),
        Value::Int(i) => Value::Sensitive(digest(&salt, &i.to_string())),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_secret_same_digest_under_its_salt() {
        let a: Address = "launch_template.web".parse().unwrap();
        let salt = new_salt("demo", &a, "user_data");
        let one = redact(&Value::str("hunter2"), None, || salt.clone());
        let again = redact(&Value::str("hunter2"), Some(&one), || "other".into());
        let changed = redact(&Value::str("hunter3"), Some(&one), || "other".into());
        assert_eq!(one, again);
        assert_ne!(one, changed);
        let Value::Sensitive(d) = &one else { panic!("{one:?}") };
        assert!(!d.contains("hunter2"));
        assert_eq!(salt_of(d), Some(salt.as_str()));
    }
}
