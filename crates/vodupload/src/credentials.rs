//! The SecretId/SecretKey pair. The key is never printed: Debug shows `***`.

use std::fmt;

use crate::error::{Error, Result};

/// Environment variable read by [`Credentials::from_env`] for the SecretId.
pub const ENV_SECRET_ID: &str = "TENCENTCLOUD_SECRET_ID";
/// Environment variable read by [`Credentials::from_env`] for the SecretKey.
pub const ENV_SECRET_KEY: &str = "TENCENTCLOUD_SECRET_KEY";

/// API credentials. `Debug` redacts the key; there is no `Display`.
#[derive(Clone)]
pub struct Credentials {
    secret_id: String,
    secret_key: String,
}

impl Credentials {
    /// Checks both halves are present and printable, so a pasted newline or an empty variable is
    /// caught here rather than as a puzzling -10002 later.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Result<Self> {
        let secret_id = secret_id.into();
        let secret_key = secret_key.into();
        check("SecretId", &secret_id)?;
        check("SecretKey", &secret_key)?;
        Ok(Credentials {
            secret_id,
            secret_key,
        })
    }

    /// Reads `TENCENTCLOUD_SECRET_ID` and `TENCENTCLOUD_SECRET_KEY`.
    pub fn from_env() -> Result<Self> {
        let get = |name: &str| {
            std::env::var(name).map_err(|_| {
                Error::invalid_input(format!(
                    "no credentials: pass a SecretId and SecretKey, or set {ENV_SECRET_ID} and {ENV_SECRET_KEY} ({name} is not set)"
                ))
            })
        };
        Credentials::new(get(ENV_SECRET_ID)?, get(ENV_SECRET_KEY)?)
    }

    /// Explicit values where given, the environment for the rest.
    pub fn resolve(secret_id: Option<&str>, secret_key: Option<&str>) -> Result<Self> {
        match (secret_id, secret_key) {
            (Some(id), Some(key)) => Credentials::new(id, key),
            (None, None) => Credentials::from_env(),
            (id, key) => {
                let env = |n: &str| std::env::var(n).ok();
                let id = id.map(str::to_owned).or_else(|| env(ENV_SECRET_ID));
                let key = key.map(str::to_owned).or_else(|| env(ENV_SECRET_KEY));
                match (id, key) {
                    (Some(id), Some(key)) => Credentials::new(id, key),
                    (None, _) => Err(Error::invalid_input(format!(
                        "a SecretKey was given without a SecretId: pass both, or set {ENV_SECRET_ID}"
                    ))),
                    (_, None) => Err(Error::invalid_input(format!(
                        "a SecretId was given without a SecretKey: pass both, or set {ENV_SECRET_KEY}"
                    ))),
                }
            }
        }
    }

    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The key, for signing. Keep it out of logs.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }
}

fn check(what: &str, v: &str) -> Result<()> {
    if v.is_empty() {
        return Err(Error::invalid_input(format!("the {what} is empty")));
    }
    if v.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Error::invalid_input(format!(
            "the {what} contains whitespace or control characters (a pasted newline?)"
        )));
    }
    Ok(())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_key() {
        let c = Credentials::new("AKIDexample", "topsecretvalue").unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("AKIDexample"));
        assert!(!d.contains("topsecretvalue"), "{d}");
    }

    #[test]
    fn rejects_empty_and_whitespace() {
        assert!(Credentials::new("", "k").is_err());
        assert!(Credentials::new("id", "").is_err());
        let e = Credentials::new("id", "key\n").unwrap_err();
        assert!(e.to_string().contains("whitespace"));
        assert!(!e.to_string().contains("key\n"));
    }
}
