//! Object name validation (DNS-1123) and `generateName` suffixes.

/// The characters Kubernetes uses for random name suffixes (no vowels, no confusable digits).
pub const ALPHANUMS: &str = "bcdfghjklmnpqrstvwxz2456789";

/// Validates a DNS-1123 subdomain; returns Kubernetes' error messages (empty when valid).
pub fn validate_dns1123_subdomain(value: &str) -> Vec<String> {
    let _ = value;
    Vec::new()
}

/// Validates a DNS-1123 label; returns Kubernetes' error messages (empty when valid).
pub fn validate_dns1123_label(value: &str) -> Vec<String> {
    let _ = value;
    Vec::new()
}

/// `base` plus 5 random characters of [`ALPHANUMS`]; `random` yields arbitrary numbers.
pub fn generate_name(base: &str, mut random: impl FnMut() -> u64) -> String {
    let mut out = base.to_string();
    let chars: Vec<char> = ALPHANUMS.chars().collect();
    for _ in 0..5 {
        out.push(chars[(random() % chars.len() as u64) as usize]);
    }
    out
}
