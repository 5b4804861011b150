//! Credentials for a Git remote, as read from a GitRepository's `spec.secretRef`.
//!
//! Secret keys follow Flux: `username`/`password` (basic auth), `bearerToken`, `identity`,
//! `identity.pub` and `known_hosts` (ssh), `ca.crt`. Values are kept out of `Debug` output so
//! they cannot leak into logs or conditions.

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Default)]
pub struct Auth {
    pub username: Option<String>,
    pub password: Option<String>,
    pub bearer_token: Option<String>,
    /// PEM/OpenSSH private key for ssh.
    pub identity: Option<Vec<u8>>,
    /// `known_hosts` lines the ssh server key must match.
    pub known_hosts: Option<Vec<u8>>,
    /// PEM CA bundle for https.
    pub ca_cert: Option<Vec<u8>>,
}

impl Auth {
    /// Reads the Flux keys from a Secret's decoded data.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Self {
        let text = |k: &str| {
            data.get(k).map(|v| {
                String::from_utf8_lossy(v)
                    .trim_end_matches('\n')
                    .to_string()
            })
        };
        Auth {
            username: text("username"),
            password: text("password"),
            bearer_token: text("bearerToken"),
            identity: data.get("identity").cloned(),
            known_hosts: data.get("known_hosts").cloned(),
            ca_cert: data.get("ca.crt").or_else(|| data.get("caFile")).cloned(),
        }
    }

    pub fn has_basic(&self) -> bool {
        self.username.is_some() || self.password.is_some()
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |present: bool| if present { "<set>" } else { "<unset>" };
        f.debug_struct("Auth")
            .field("username", &self.username)
            .field("password", &set(self.password.is_some()))
            .field("bearer_token", &set(self.bearer_token.is_some()))
            .field("identity", &set(self.identity.is_some()))
            .field("known_hosts", &set(self.known_hosts.is_some()))
            .field("ca_cert", &set(self.ca_cert.is_some()))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secret_values() {
        let mut data = BTreeMap::new();
        data.insert("username".to_string(), b"git".to_vec());
        data.insert("password".to_string(), b"hunter2\n".to_vec());
        data.insert("bearerToken".to_string(), b"tok-123".to_vec());
        let auth = Auth::from_secret_data(&data);
        assert_eq!(auth.password.as_deref(), Some("hunter2"));
        let shown = format!("{auth:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok-123"),
            "{shown}"
        );
        assert!(shown.contains("git"));
    }
}
