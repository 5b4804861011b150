//! Name validation and generateName, with Kubernetes' messages.

use flux_apimachinery::names::{
    ALPHANUMS, generate_name, validate_dns1123_label, validate_dns1123_subdomain,
    validate_label_value, validate_qualified_name,
};

#[test]
fn dns1123_subdomain_accepts_dotted_lowercase_names() {
    for ok in ["a", "flux-system", "podinfo.apps", "0abc", &"a".repeat(253)] {
        assert!(validate_dns1123_subdomain(ok).is_empty(), "{ok}");
    }
}

#[test]
fn dns1123_subdomain_rejects_with_kubernetes_message() {
    assert_eq!(
        validate_dns1123_subdomain("Foo_bar"),
        [
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ]
    );
    for bad in ["", "-a", "a-", "a..b", ".a"] {
        assert!(!validate_dns1123_subdomain(bad).is_empty(), "{bad:?}");
    }
    assert_eq!(
        validate_dns1123_subdomain(&"a".repeat(254))[0],
        "must be no more than 253 characters"
    );
}

#[test]
fn dns1123_label_rejects_dots_and_long_names() {
    assert!(validate_dns1123_label("team-a").is_empty());
    assert_eq!(
        validate_dns1123_label("a.b"),
        [
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        ]
    );
    assert_eq!(
        validate_dns1123_label(&"a".repeat(64)),
        ["must be no more than 63 characters"]
    );
}

#[test]
fn qualified_names_and_label_values_follow_kubernetes_rules() {
    assert!(validate_qualified_name("app.kubernetes.io/name").is_empty());
    assert!(validate_qualified_name("MyName").is_empty());
    assert!(!validate_qualified_name("a/b/c").is_empty());
    assert!(!validate_qualified_name("/name").is_empty());
    assert!(!validate_qualified_name("Example.com/name").is_empty());
    assert_eq!(
        validate_qualified_name("x/"),
        ["name part must be non-empty"]
    );
    assert!(validate_label_value("").is_empty());
    assert!(validate_label_value("v1.2_3-x").is_empty());
    assert!(!validate_label_value("-x").is_empty());
    assert!(!validate_label_value(&"a".repeat(64)).is_empty());
}

#[test]
fn generate_name_appends_five_characters_from_the_kubernetes_alphabet() {
    let mut n = 0u64;
    let name = generate_name("podinfo-", || {
        n += 1;
        n
    });
    assert_eq!(name, "podinfo-cdfgh");
    let mut seed = 7u64;
    let name = generate_name("x-", || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        seed >> 33
    });
    assert_eq!(name.len(), 7);
    assert!(name[2..].chars().all(|c| ALPHANUMS.contains(c)));
}

#[test]
fn generate_name_cuts_long_bases_to_58_bytes() {
    let name = generate_name(&"a".repeat(80), || 0);
    assert_eq!(name, format!("{}bbbbb", "a".repeat(58)));
    // The cut never splits a character: "a" + 28 two-byte chars is 57 bytes.
    let multibyte = generate_name(&format!("a{}", "é".repeat(40)), || 0);
    assert_eq!(multibyte.len(), 57 + 5);
}
