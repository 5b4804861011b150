//! Object name and label validation with Kubernetes' error messages, and `generateName`
//! suffixes.

use std::sync::LazyLock;

use regex::Regex;

/// The characters Kubernetes uses for random name suffixes (no vowels, no confusable digits).
pub const ALPHANUMS: &str = "bcdfghjklmnpqrstvwxz2456789";

/// Length of the random `generateName` suffix.
pub const RANDOM_LENGTH: usize = 5;

/// Longest prefix kept from `generateName` (63 minus the random suffix).
pub const MAX_GENERATED_PREFIX: usize = 58;

const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN: &str = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const QUALIFIED_NAME: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

fn anchored(pattern: &str) -> Regex {
    // The patterns are constants known to compile.
    Regex::new(&format!("^{pattern}$")).unwrap_or_else(|_| unreachable!("constant regex"))
}

static LABEL_RE: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_LABEL));
static SUBDOMAIN_RE: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_SUBDOMAIN));
static QUALIFIED_RE: LazyLock<Regex> = LazyLock::new(|| anchored(QUALIFIED_NAME));
static LABEL_VALUE_RE: LazyLock<Regex> = LazyLock::new(|| anchored(LABEL_VALUE));

fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `validation.RegexError`: the explanation, examples and the pattern.
fn regex_error(msg: &str, pattern: &str, examples: &[&str]) -> String {
    let examples = examples
        .iter()
        .map(|e| format!("'{e}'"))
        .collect::<Vec<_>>()
        .join(",  or ");
    format!("{msg} (e.g. {examples}, regex used for validation is '{pattern}')")
}

/// Validates a DNS-1123 label (namespace names, Service names); returns Kubernetes' error
/// messages, empty when valid.
pub fn validate_dns1123_label(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 63 {
        errors.push(max_len_error(63));
    }
    if !LABEL_RE.is_match(value) {
        errors.push(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            DNS1123_LABEL,
            &["my-name", "123-abc"],
        ));
    }
    errors
}

/// Validates a DNS-1123 subdomain (most object names); returns Kubernetes' error messages,
/// empty when valid.
pub fn validate_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 253 {
        errors.push(max_len_error(253));
    }
    if !SUBDOMAIN_RE.is_match(value) {
        errors.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            DNS1123_SUBDOMAIN,
            &["example.com"],
        ));
    }
    errors
}

/// Validates a qualified name (label and annotation keys: `[prefix/]name`).
pub fn validate_qualified_name(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_string());
            } else {
                for e in validate_dns1123_subdomain(prefix) {
                    errors.push(format!("prefix part {e}"));
                }
            }
            *name
        }
        _ => {
            errors.push(format!(
                "{} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(
                    "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                    QUALIFIED_NAME,
                    &["MyName", "my.name", "123-abc"],
                )
            ));
            return errors;
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errors.push(format!("name part {}", max_len_error(63)));
    }
    if !name.is_empty() && !QUALIFIED_RE.is_match(name) {
        errors.push(format!(
            "name part {}",
            regex_error(
                "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                QUALIFIED_NAME,
                &["MyName", "my.name", "123-abc"],
            )
        ));
    }
    errors
}

/// Validates a label value.
pub fn validate_label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 63 {
        errors.push(max_len_error(63));
    }
    if !LABEL_VALUE_RE.is_match(value) {
        errors.push(regex_error(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
            LABEL_VALUE,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errors
}

/// The name the API server gives an object created with `generateName: base`: the base cut
/// to 58 bytes plus 5 characters of [`ALPHANUMS`]. `random` yields arbitrary numbers, so a
/// caller can pass a seeded generator and get reproducible names.
pub fn generate_name(base: &str, mut random: impl FnMut() -> u64) -> String {
    let mut cut = base.len().min(MAX_GENERATED_PREFIX);
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut out = base[..cut].to_string();
    let chars = ALPHANUMS.as_bytes();
    for _ in 0..RANDOM_LENGTH {
        out.push(chars[(random() % chars.len() as u64) as usize] as char);
    }
    out
}
