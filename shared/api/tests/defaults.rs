//! Flux's documented defaults and derived values, exposed as accessors on the spec types.

use std::time::Duration;

use flux_api::FluxObject;
use flux_api::crds::find_kind;
use serde_json::{Value, json};

fn parse(doc: Value) -> FluxObject {
    FluxObject::from_json(doc).unwrap_or_else(|e| panic!("{e}"))
}

fn kustomization(spec: Value) -> flux_api::kustomize::v1::KustomizationSpec {
    let mut base = json!({"interval": "10m", "prune": true, "sourceRef": {"kind": "GitRepository", "name": "repo"}});
    base.as_object_mut()
        .unwrap()
        .extend(spec.as_object().unwrap().clone());
    let FluxObject::KustomizationV1(ks) = parse(json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "ks", "namespace": "flux-system"}, "spec": base,
    })) else {
        panic!()
    };
    ks.spec
}

#[test]
fn kustomization_timeout_defaults_to_interval_minus_30s_with_a_30s_floor() {
    assert_eq!(kustomization(json!({})).timeout(), Duration::from_secs(570));
    assert_eq!(
        kustomization(json!({"interval": "40s"})).timeout(),
        Duration::from_secs(30)
    );
    assert_eq!(
        kustomization(json!({"timeout": "2m"})).timeout(),
        Duration::from_secs(120)
    );
    assert_eq!(
        kustomization(json!({"timeout": "5s"})).timeout(),
        Duration::from_secs(30)
    );
}

#[test]
fn kustomization_retry_interval_and_deletion_policy_defaults() {
    use flux_api::kustomize::v1::DeletionPolicy;
    assert_eq!(
        kustomization(json!({})).retry_interval(),
        Duration::from_secs(600)
    );
    assert_eq!(
        kustomization(json!({"retryInterval": "1m"})).retry_interval(),
        Duration::from_secs(60)
    );
    assert_eq!(
        kustomization(json!({})).deletion_policy(),
        DeletionPolicy::MirrorPrune
    );
    assert_eq!(
        kustomization(json!({"deletionPolicy": "Orphan"})).deletion_policy(),
        DeletionPolicy::Orphan
    );
}

fn helm_release(spec: Value) -> flux_api::helm::v2::HelmRelease {
    let FluxObject::HelmReleaseV2(hr) = parse(json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "app", "namespace": "team"}, "spec": spec,
    })) else {
        panic!()
    };
    hr
}

#[test]
fn helm_release_names_and_defaults_follow_flux() {
    let chart_ref = json!({"kind": "OCIRepository", "name": "app"});
    let hr = helm_release(json!({"interval": "5m", "chartRef": chart_ref}));
    assert_eq!(hr.release_name(), "app");
    assert_eq!(hr.release_namespace(), "team");
    assert_eq!(hr.helm_chart_name(), "team-app");
    assert_eq!(hr.spec.timeout(), Duration::from_secs(300));
    assert_eq!(hr.spec.max_history(), 5);
    let hr = helm_release(
        json!({"interval": "5m", "chartRef": chart_ref, "targetNamespace": "web", "maxHistory": 0}),
    );
    assert_eq!(hr.release_name(), "web-app");
    assert_eq!(hr.release_namespace(), "web");
    assert_eq!(hr.spec.max_history(), 0);
    let hr =
        helm_release(json!({"interval": "5m", "chartRef": chart_ref, "releaseName": "custom"}));
    assert_eq!(hr.release_name(), "custom");
}

#[test]
fn helm_release_requires_exactly_one_of_chart_and_chart_ref() {
    let chart =
        json!({"spec": {"chart": "app", "sourceRef": {"kind": "HelmRepository", "name": "repo"}}});
    let chart_ref = json!({"kind": "HelmChart", "name": "app"});
    assert!(
        helm_release(json!({"interval": "5m", "chart": chart}))
            .spec
            .validate()
            .is_ok()
    );
    let both = helm_release(json!({"interval": "5m", "chart": chart, "chartRef": chart_ref}));
    assert_eq!(
        both.spec.validate().unwrap_err(),
        "spec: either chart or chartRef must be set"
    );
    assert!(
        helm_release(json!({"interval": "5m"}))
            .spec
            .validate()
            .is_err()
    );
}

#[test]
fn upgrade_remediation_defaults_depend_on_retries() {
    use flux_api::helm::v2::{RemediationStrategy, UpgradeRemediation};
    let none = UpgradeRemediation::default();
    assert!(!none.remediate_last_failure());
    assert_eq!(none.strategy(), RemediationStrategy::Rollback);
    let retries = UpgradeRemediation {
        retries: 2,
        ..Default::default()
    };
    assert!(retries.remediate_last_failure());
    let explicit = UpgradeRemediation {
        retries: 2,
        remediate_last_failure: Some(false),
        ..Default::default()
    };
    assert!(!explicit.remediate_last_failure());
}

fn bucket(spec: Value) -> flux_api::source::v1::BucketSpec {
    let mut base = json!({"bucketName": "b", "interval": "5m"});
    base.as_object_mut()
        .unwrap()
        .extend(spec.as_object().unwrap().clone());
    let FluxObject::BucketV1(b) = parse(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "Bucket",
        "metadata": {"name": "b", "namespace": "ns"}, "spec": base,
    })) else {
        panic!()
    };
    b.spec
}

#[test]
fn bucket_endpoint_is_derived_only_where_the_provider_implies_one() {
    assert_eq!(
        bucket(json!({"provider": "aws"})).endpoint().as_deref(),
        Some("s3.amazonaws.com")
    );
    assert_eq!(
        bucket(json!({"provider": "aws", "region": "eu-west-1"}))
            .endpoint()
            .as_deref(),
        Some("s3.eu-west-1.amazonaws.com")
    );
    assert_eq!(
        bucket(json!({"provider": "gcp"})).endpoint().as_deref(),
        Some("storage.googleapis.com")
    );
    assert_eq!(bucket(json!({})).endpoint(), None);
    assert_eq!(
        bucket(json!({})).compatibility_warnings(),
        ["spec.endpoint is required for the generic and azure providers"]
    );
    assert_eq!(
        bucket(json!({"endpoint": "minio:9000"}))
            .endpoint()
            .as_deref(),
        Some("minio:9000")
    );
    assert!(
        bucket(json!({"endpoint": "minio:9000"}))
            .compatibility_warnings()
            .is_empty()
    );
    assert_eq!(bucket(json!({})).timeout(), Duration::from_secs(60));
}

#[test]
fn image_repository_defaults_exclude_signatures_and_time_out_at_the_interval() {
    let FluxObject::ImageRepositoryV1(repo) = parse(json!({
        "apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
        "metadata": {"name": "r", "namespace": "ns"}, "spec": {"image": "nginx", "interval": "5m"},
    })) else {
        panic!()
    };
    assert_eq!(repo.spec.exclusion_list(), [r"^.*\.sig$"]);
    assert_eq!(repo.spec.timeout(), Duration::from_secs(300));
}

#[test]
fn image_policy_interval_requires_digest_reflection_always() {
    let policy = |spec: Value| {
        let FluxObject::ImagePolicyV1(p) = parse(json!({
            "apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
            "metadata": {"name": "p", "namespace": "ns"}, "spec": spec,
        })) else {
            panic!()
        };
        p.spec.validate()
    };
    let base = json!({"imageRepositoryRef": {"name": "r"}, "policy": {"semver": {"range": "1.x"}}});
    let with = |extra: Value| {
        let mut s = base.clone();
        s.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    };
    assert!(policy(base.clone()).is_ok());
    assert!(
        policy(with(
            json!({"digestReflectionPolicy": "Always", "interval": "10m"})
        ))
        .is_ok()
    );
    assert!(
        policy(with(json!({"interval": "10m"})))
            .unwrap_err()
            .contains("only accepted")
    );
    assert!(
        policy(with(json!({"digestReflectionPolicy": "Always"})))
            .unwrap_err()
            .contains("must be set")
    );
}

#[test]
fn provider_commit_status_expr_is_only_for_git_providers_and_timeout_defaults_to_15s() {
    let provider = |type_: &str| {
        let FluxObject::ProviderV1beta3(p) = parse(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider",
            "metadata": {"name": "p", "namespace": "ns"}, "spec": {"type": type_, "commitStatusExpr": "x"},
        })) else {
            panic!()
        };
        p.spec
    };
    assert!(provider("gitlab").validate().is_ok());
    assert!(
        provider("slack")
            .validate()
            .unwrap_err()
            .contains("commitStatusExpr")
    );
    assert_eq!(provider("slack").timeout(), Duration::from_secs(15));
}

#[test]
fn helm_chart_values_files_put_the_deprecated_file_first() {
    let FluxObject::HelmChartV1(chart) = parse(json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
        "metadata": {"name": "c", "namespace": "ns"},
        "spec": {"chart": "c", "interval": "5m", "sourceRef": {"kind": "GitRepository", "name": "g"},
                 "valuesFile": "base.yaml", "valuesFiles": ["a.yaml", "b.yaml"]},
    })) else {
        panic!()
    };
    assert_eq!(chart.spec.values_files(), ["base.yaml", "a.yaml", "b.yaml"]);
}

#[test]
fn kinds_are_found_by_kind_plural_singular_or_short_name() {
    for name in [
        "GitRepository",
        "gitrepositories",
        "gitrepository",
        "gitrepo",
        "GITREPO",
    ] {
        assert_eq!(
            find_kind(name).map(|k| k.kind),
            Some("GitRepository"),
            "{name}"
        );
    }
    assert_eq!(find_kind("hr").map(|k| k.kind), Some("HelmRelease"));
    assert_eq!(
        find_kind("ks").map(|k| k.api_version()),
        Some("kustomize.toolkit.fluxcd.io/v1".to_string())
    );
    assert_eq!(
        find_kind("iua").map(|k| k.component),
        Some("image-automation-controller")
    );
    assert!(find_kind("deployment").is_none());
}

#[test]
fn git_repository_service_account_requires_a_cloud_provider() {
    let repo = |spec: Value| {
        let mut base = json!({"url": "https://dev.azure.com/org/_git/repo", "interval": "1m"});
        base.as_object_mut()
            .unwrap()
            .extend(spec.as_object().unwrap().clone());
        parse(json!({
            "apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "g", "namespace": "ns"}, "spec": base,
        }))
        .validate()
    };
    assert!(repo(json!({"provider": "azure", "serviceAccountName": "sa"})).is_ok());
    assert_eq!(
        repo(json!({"serviceAccountName": "sa"})).unwrap_err(),
        "serviceAccountName can only be set when provider is 'azure' or 'aws'"
    );
}

#[test]
fn bucket_sts_must_match_the_bucket_provider() {
    let ldap = json!({"provider": "ldap", "endpoint": "https://sts"});
    let aws = json!({"provider": "aws", "endpoint": "https://sts.amazonaws.com"});
    assert!(
        bucket(json!({"endpoint": "minio", "sts": ldap}))
            .validate()
            .is_ok()
    );
    assert!(
        bucket(json!({"provider": "aws", "sts": aws}))
            .validate()
            .is_ok()
    );
    assert!(
        bucket(json!({"provider": "aws", "sts": ldap}))
            .validate()
            .unwrap_err()
            .contains("'aws' is the only")
    );
    assert!(
        bucket(json!({"endpoint": "minio", "sts": aws}))
            .validate()
            .unwrap_err()
            .contains("'ldap' is the only")
    );
    assert!(
        bucket(json!({"provider": "gcp", "sts": aws}))
            .validate()
            .unwrap_err()
            .contains("only supported for the 'aws' and 'generic'")
    );
    assert!(
        bucket(json!({"endpoint": "minio", "serviceAccountName": "sa"}))
            .validate()
            .unwrap_err()
            .contains("generic")
    );
    let both = json!({"provider": "aws", "serviceAccountName": "sa", "secretRef": {"name": "s"}});
    assert_eq!(
        bucket(both).validate().unwrap_err(),
        "cannot set both .spec.secretRef and .spec.serviceAccountName"
    );
}

#[test]
fn receivers_need_a_secret_unless_they_use_oidc() {
    let receiver = |spec: Value| {
        let mut base = json!({"resources": [{"kind": "GitRepository", "name": "repo"}]});
        base.as_object_mut()
            .unwrap()
            .extend(spec.as_object().unwrap().clone());
        parse(json!({
            "apiVersion": "notification.toolkit.fluxcd.io/v1", "kind": "Receiver",
            "metadata": {"name": "r", "namespace": "ns"}, "spec": base,
        }))
        .validate()
    };
    let oidc = json!([{"issuerURL": "https://issuer", "validations": [{"expression": "true", "message": "m"}]}]);
    assert!(receiver(json!({"type": "github", "secretRef": {"name": "t"}})).is_ok());
    assert_eq!(
        receiver(json!({"type": "github"})).unwrap_err(),
        "secretRef is required when type is not generic-oidc"
    );
    assert!(receiver(json!({"type": "generic-oidc", "oidcProviders": oidc})).is_ok());
    assert!(
        receiver(json!({"type": "generic-oidc"}))
            .unwrap_err()
            .contains("at least one oidcProvider")
    );
    let mixed = json!({"type": "generic", "secretRef": {"name": "t"}, "oidcProviders": oidc});
    assert!(
        receiver(mixed)
            .unwrap_err()
            .contains("only be set when type is generic-oidc")
    );
}
