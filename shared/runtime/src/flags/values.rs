//! Value types behind Flux's flags: Go booleans, listen addresses, feature gates, log options.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Why a flag value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error(
        "invalid boolean {0:?}: use true or false (also 1, t, T, TRUE, True, 0, f, F, FALSE, False)"
    )]
    Bool(String),
    #[error("invalid address {0:?}: expected host:port or :port, e.g. :8080")]
    Address(String),
    #[error("invalid port in address {0:?}: must be a number from 0 to 65535")]
    Port(String),
    #[error("invalid feature gate {0:?}: expected Name=true or Name=false")]
    FeatureGate(String),
}

/// Parses a boolean the way Go's `strconv.ParseBool` (and so pflag) does.
pub fn parse_go_bool(s: &str) -> Result<bool, ValueError> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        other => Err(ValueError::Bool(other.to_string())),
    }
}

/// An address to listen on in Go's `host:port` form (`:8080` binds every interface).
/// controller-runtime treats `0` as "disabled", and so do we.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ListenAddr {
    Disabled,
    Tcp { host: String, port: u16 },
}

impl ListenAddr {
    /// The `(host, port)` pair to bind, with an empty host meaning all IPv4 interfaces.
    pub fn bind_target(&self) -> Option<(String, u16)> {
        match self {
            ListenAddr::Disabled => None,
            ListenAddr::Tcp { host, port } => {
                let host = if host.is_empty() {
                    "0.0.0.0".to_string()
                } else {
                    host.clone()
                };
                Some((host, *port))
            }
        }
    }
}

impl FromStr for ListenAddr {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "0" {
            return Ok(ListenAddr::Disabled);
        }
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| ValueError::Address(s.to_string()))?;
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.contains(':') && !s.starts_with('[') {
            return Err(ValueError::Address(s.to_string()));
        }
        let port: u16 = port.parse().map_err(|_| ValueError::Port(s.to_string()))?;
        Ok(ListenAddr::Tcp {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Disabled => f.write_str("0"),
            ListenAddr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            ListenAddr::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

/// `--feature-gates=A=true,B=false`: a map of gate names to states, as pflag's mapStringBool.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeatureGates(pub BTreeMap<String, bool>);

impl FeatureGates {
    /// The state of `name`: the flag's value if given, else `default`.
    pub fn enabled(&self, name: &str, default: bool) -> bool {
        self.0.get(name).copied().unwrap_or(default)
    }

    /// Names given on the command line that the controller does not know.
    pub fn unknown<'a>(&'a self, supported: &'a [&str]) -> impl Iterator<Item = &'a str> {
        self.0
            .keys()
            .map(String::as_str)
            .filter(|k| !supported.contains(k))
    }
}

impl FromStr for FeatureGates {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut gates = BTreeMap::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| ValueError::FeatureGate(pair.to_string()))?;
            let name = name.trim();
            if name.is_empty() {
                return Err(ValueError::FeatureGate(pair.to_string()));
            }
            let value = parse_go_bool(value.trim())
                .map_err(|_| ValueError::FeatureGate(pair.to_string()))?;
            gates.insert(name.to_string(), value);
        }
        Ok(FeatureGates(gates))
    }
}

/// `--log-level`: the verbosity Flux's zap logger accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Error,
}

/// `--log-encoding`: zap's JSON or console encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogEncoding {
    Json,
    Console,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_bool_accepts_strconv_forms_only() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Ok(false), "{f}");
        }
        assert!(parse_go_bool("yes").is_err());
    }

    #[test]
    fn port_only_address_binds_all_interfaces() {
        let addr: ListenAddr = ":8080".parse().unwrap();
        assert_eq!(addr.bind_target(), Some(("0.0.0.0".to_string(), 8080)));
        assert_eq!(addr.to_string(), ":8080");
    }

    #[test]
    fn host_and_ipv6_addresses_parse() {
        let addr: ListenAddr = "127.0.0.1:9440".parse().unwrap();
        assert_eq!(addr.bind_target(), Some(("127.0.0.1".to_string(), 9440)));
        let v6: ListenAddr = "[::1]:9090".parse().unwrap();
        assert_eq!(v6.bind_target(), Some(("::1".to_string(), 9090)));
        assert_eq!(v6.to_string(), "[::1]:9090");
    }

    #[test]
    fn zero_disables_the_listener() {
        assert_eq!("0".parse::<ListenAddr>(), Ok(ListenAddr::Disabled));
    }

    #[test]
    fn bad_addresses_are_rejected() {
        assert!(matches!(
            "8080".parse::<ListenAddr>(),
            Err(ValueError::Address(_))
        ));
        assert!(matches!(
            ":http".parse::<ListenAddr>(),
            Err(ValueError::Port(_))
        ));
        assert!(matches!(
            ":70000".parse::<ListenAddr>(),
            Err(ValueError::Port(_))
        ));
        assert!(matches!(
            "::1:80".parse::<ListenAddr>(),
            Err(ValueError::Address(_))
        ));
    }

    #[test]
    fn feature_gates_parse_pairs_and_report_unknown_names() {
        let gates: FeatureGates = "OOMWatch=true, CacheSecretsAndConfigMaps=false"
            .parse()
            .unwrap();
        assert!(gates.enabled("OOMWatch", false));
        assert!(!gates.enabled("CacheSecretsAndConfigMaps", true));
        assert!(gates.enabled("Other", true));
        let unknown: Vec<_> = gates.unknown(&["OOMWatch"]).collect();
        assert_eq!(unknown, vec!["CacheSecretsAndConfigMaps"]);
    }

    #[test]
    fn feature_gate_without_boolean_is_rejected() {
        assert!("OOMWatch".parse::<FeatureGates>().is_err());
        assert!("OOMWatch=maybe".parse::<FeatureGates>().is_err());
        assert!("=true".parse::<FeatureGates>().is_err());
    }
}
