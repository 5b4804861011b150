//! `flux local` end to end: the real `flux` binary on examples/fleet-infra and on broken
//! copies of it, asserting on the report, the objects and the exit code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fleet() -> PathBuf {
    repo_root().join("examples/fleet-infra")
}

fn example_key() -> PathBuf {
    fleet().join("keys/EXAMPLE-ONLY.agekey")
}

fn flux(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flux"))
        .args(args)
        .output()
        .expect("run flux")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A writable copy of the example fleet.
fn fleet_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let status = Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", fleet().display()))
        .arg(dir.path())
        .status()
        .expect("cp");
    assert!(status.success());
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let content = std::fs::read_to_string(path).expect("read");
    assert!(content.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, content.replacen(from, to, 1)).expect("write");
}

/// `flux local run -o json` on `repo`; returns the exit code and the parsed report.
fn run_json(repo: &Path, extra: &[&str]) -> (i32, Value, String) {
    let repo = repo.to_string_lossy();
    let mut args = vec![
        "local",
        "run",
        &repo,
        "--path",
        "clusters/production",
        "--timeout",
        "90s",
        "-o",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = flux(&args);
    let stdout = text(&out.stdout);
    let report = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {stdout}\n{}", text(&out.stderr)));
    (out.status.code().unwrap_or(-1), report, text(&out.stderr))
}

/// [`run_json`] with the fleet's example age key, so its encrypted Secret decrypts.
fn run_with_example_key(repo: &Path) -> (i32, Value, String) {
    run_json(
        repo,
        &["--decryption-key", &example_key().to_string_lossy()],
    )
}

fn object<'a>(report: &'a Value, kind: &str, id: &str) -> &'a Value {
    report["objects"]
        .as_array()
        .expect("objects")
        .iter()
        .find(|o| {
            o["kind"] == kind
                && format!(
                    "{}/{}",
                    o["namespace"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                ) == id
        })
        .unwrap_or_else(|| panic!("{kind} {id} not in report: {report:#}"))
}

#[test]
fn the_example_fleet_ends_green_with_a_tree_report() {
    let key = example_key();
    let out = flux(&[
        "local",
        "run",
        &fleet().to_string_lossy(),
        "--path",
        "clusters/production",
        "--decryption-key",
        &key.to_string_lossy(),
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("8 of 8 Flux objects ready"), "{stdout}");
    assert!(
        stdout.starts_with("✔ Kustomization/flux-system/flux-system"),
        "{stdout}"
    );
    // Tenants' own Kustomizations sit under the Kustomization that created them.
    assert!(
        stdout.contains("\n    ✔ Kustomization/team-users/team-users  "),
        "{stdout}"
    );
    // The decrypted value of the SOPS Secret is applied, never printed.
    assert!(!stdout.contains("global-value") && !stderr.contains("global-value"));
}

#[test]
fn the_json_report_names_every_object_with_its_parent_and_inventory() {
    let (code, report, stderr) = run_with_example_key(&fleet());
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["succeeded"], true);
    let apps = object(&report, "Kustomization", "flux-system/apps");
    assert_eq!(apps["ready"], "True");
    assert_eq!(apps["applied"], 7);
    assert_eq!(apps["parent"], "flux-system/flux-system");
    let tenant = object(&report, "Kustomization", "team-payments/team-payments");
    assert_eq!(tenant["parent"], "flux-system/tenants");
    let source = object(&report, "GitRepository", "flux-system/flux-system");
    assert!(
        source["revision"]
            .as_str()
            .unwrap()
            .starts_with("local@sha256:"),
        "{source}"
    );
}

#[test]
fn a_failing_health_check_fails_the_run_and_blocks_dependents() {
    let repo = fleet_copy();
    edit(
        &repo
            .path()
            .join("infrastructure/base/cert-manager/deployment.yaml"),
        "metadata:\n",
        "metadata:\n  annotations:\n    apiserver.flux-rs.io/simulate: fail\n",
    );
    edit(
        &repo.path().join("clusters/production/infrastructure.yaml"),
        "timeout: 5m",
        "timeout: 5s",
    );
    let (code, report, _) = run_with_example_key(repo.path());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["succeeded"], false);
    let infra = object(&report, "Kustomization", "flux-system/infrastructure");
    assert_eq!(infra["ready"], "False", "{infra}");
    assert_eq!(infra["reason"], "HealthCheckFailed", "{infra}");
    assert!(
        infra["message"].as_str().unwrap().contains("cert-manager"),
        "{infra}"
    );
    let apps = object(&report, "Kustomization", "flux-system/apps");
    assert_eq!(apps["reason"], "DependencyNotReady", "{apps}");
    // What does not depend on the failure still lands.
    assert_eq!(
        object(&report, "Kustomization", "flux-system/tenants")["ready"],
        "True"
    );
}

#[test]
fn a_missing_decryption_key_fails_only_the_encrypted_kustomization() {
    let (code, report, stderr) = run_json(&fleet(), &[]);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    let secrets = object(&report, "Kustomization", "flux-system/secrets");
    assert_eq!(secrets["ready"], "False", "{secrets}");
    assert!(
        secrets["message"].as_str().unwrap().contains("sops-age"),
        "{secrets}"
    );
    assert_eq!(
        object(&report, "Kustomization", "flux-system/apps")["ready"],
        "True"
    );
}

#[test]
fn a_wrong_decryption_key_is_reported_without_key_material() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("other.agekey");
    // A real age identity that is not a recipient of the fleet's secrets.
    let status = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("age-keygen (scripts/test-deps.sh installs age)");
    assert!(status.success());
    let secret_line = std::fs::read_to_string(&key)
        .expect("key")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .expect("identity")
        .to_string();
    let (code, report, stderr) = run_json(&fleet(), &["--decryption-key", &key.to_string_lossy()]);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    let secrets = object(&report, "Kustomization", "flux-system/secrets");
    assert_eq!(secrets["ready"], "False", "{secrets}");
    let all = format!("{report}{stderr}");
    assert!(
        !all.contains(&secret_line[15..]),
        "key material leaked: {all}"
    );
}

#[test]
fn a_missing_dependency_is_reported_on_the_dependent() {
    let repo = fleet_copy();
    edit(
        &repo.path().join("clusters/production/tenants.yaml"),
        "spec:\n",
        "spec:\n  dependsOn:\n    - name: does-not-exist\n",
    );
    let (code, report, _) = run_with_example_key(repo.path());
    assert_eq!(code, 1, "{report:#}");
    let tenants = object(&report, "Kustomization", "flux-system/tenants");
    assert_eq!(tenants["reason"], "DependencyNotReady", "{tenants}");
    assert!(
        tenants["message"]
            .as_str()
            .unwrap()
            .contains("does-not-exist"),
        "{tenants}"
    );
}

#[test]
fn a_dependency_cycle_is_refused_before_anything_runs() {
    let repo = fleet_copy();
    edit(
        &repo.path().join("clusters/production/infrastructure.yaml"),
        "spec:\n",
        "spec:\n  dependsOn:\n    - name: apps\n",
    );
    let out = flux(&[
        "local",
        "run",
        &repo.path().to_string_lossy(),
        "--path",
        "clusters/production",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("dependency cycle between Kustomizations"),
        "{stderr}"
    );
    assert!(
        stderr.contains("flux-system/apps") && stderr.contains("flux-system/infrastructure"),
        "{stderr}"
    );
    assert!(
        text(&out.stdout).is_empty(),
        "no report for a run that never started"
    );
}

#[test]
fn remote_sources_fail_until_mapped_to_a_directory() {
    let repo = fleet_copy();
    std::fs::write(
        repo.path().join("clusters/production/podinfo.yaml"),
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 5m\n  url: https://github.com/stefanprodan/podinfo\n  ref:\n    branch: master\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  interval: 5m\n  path: ./deploy\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: podinfo\n",
    )
    .expect("write");
    let key = example_key();
    let key = key.to_string_lossy();
    let (code, report, _) = run_json(repo.path(), &["--decryption-key", &key]);
    assert_eq!(code, 1, "{report:#}");
    let source = object(&report, "GitRepository", "flux-system/podinfo");
    assert_eq!(source["reason"], "SourceNotMapped", "{source}");
    assert!(
        source["message"]
            .as_str()
            .unwrap()
            .contains("--source podinfo=DIR"),
        "{source}"
    );

    let podinfo = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(podinfo.path().join("deploy")).expect("mkdir");
    std::fs::write(
        podinfo.path().join("deploy/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\n  namespace: default\ndata:\n  k: v\n",
    )
    .expect("write");
    let mapping = format!("podinfo={}", podinfo.path().display());
    let (code, report, _) = run_json(
        repo.path(),
        &["--decryption-key", &key, "--source", &mapping],
    );
    assert_eq!(code, 0, "{report:#}");
    let ks = object(&report, "Kustomization", "flux-system/podinfo");
    assert_eq!(ks["applied"], 1, "{ks}");
}

#[test]
fn bad_paths_and_empty_clusters_are_clear_errors() {
    let run_path = |repo: &Path, path: &str, expected: &str| {
        let out = flux(&["local", "run", &repo.to_string_lossy(), "--path", path]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    };
    run_path(
        &fleet(),
        "clusters/nowhere",
        "path 'clusters/nowhere' not found",
    );
    run_path(&fleet(), "apps/base/user-service", "no Flux objects found");
    let repo = fleet_copy();
    std::fs::write(
        repo.path().join("clusters/production/broken.yaml"),
        "kind: [unclosed\n",
    )
    .expect("write");
    run_path(repo.path(), "clusters/production", "broken.yaml");
}

#[test]
fn build_prints_every_object_with_kustomizations_followed_and_secrets_masked() {
    let key = example_key();
    let out = flux(&[
        "local",
        "build",
        &fleet().to_string_lossy(),
        "--path",
        "clusters/production",
        "--decryption-key",
        &key.to_string_lossy(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&stdout)
        .map(|d| serde::Deserialize::deserialize(d).expect("yaml"))
        .collect();
    let find = |kind: &str, name: &str| {
        docs.iter()
            .find(|d| {
                d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name)
            })
            .unwrap_or_else(|| panic!("{kind}/{name} missing from:\n{stdout}"))
    };
    // Objects applied by nested Kustomizations, each once, labelled with its Kustomization.
    let tenant_cm = find("ConfigMap", "team-users-settings");
    assert_eq!(
        tenant_cm["metadata"]["namespace"].as_str(),
        Some("team-users")
    );
    assert_eq!(
        tenant_cm["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"].as_str(),
        Some("team-users")
    );
    let names: Vec<String> = docs
        .iter()
        .map(|d| {
            format!(
                "{:?}/{:?}/{:?}",
                d["kind"], d["metadata"]["namespace"], d["metadata"]["name"]
            )
        })
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "duplicates in {names:#?}");
    // postBuild substitution from the cluster-config ConfigMap.
    assert!(stdout.contains("CLUSTER: production"), "{stdout}");
    // The decrypted Secret is present but its value is not.
    assert_eq!(
        find("Secret", "global-age-secret")["stringData"]["key"].as_str(),
        Some("***")
    );
    assert!(!stdout.contains("global-value"));
}

/// A copy of the example fleet committed on branch `main` of a new git repository.
fn committed_fleet() -> tempfile::TempDir {
    let repo = fleet_copy();
    git(repo.path(), &["init", "-q", "-b", "main"]);
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "fleet"]);
    repo
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
        .args(args)
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn diff_shows_what_changed_since_a_ref_with_exit_code_one() {
    let repo = committed_fleet();
    let path = repo.path().to_string_lossy().into_owned();
    let key = example_key();
    let key = key.to_string_lossy();
    let args = [
        "local",
        "diff",
        &path,
        "--path",
        "clusters/production",
        "--ref",
        "main",
        "--decryption-key",
        &key,
    ];

    let out = flux(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");

    edit(
        &repo.path().join("clusters/production/cluster-config.yaml"),
        "CLUSTER_REGION: eu-west-1",
        "CLUSTER_REGION: us-east-1",
    );
    let out = flux(&args);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("--- ConfigMap/flux-system/cluster-config (main)\n+++ ConfigMap/flux-system/cluster-config (work tree)\n@@ "), "{stdout}");
    assert!(
        stdout.contains("-  CLUSTER_REGION: eu-west-1\n+  CLUSTER_REGION: us-east-1\n"),
        "{stdout}"
    );

    let out = flux(&[
        "local",
        "diff",
        &path,
        "--path",
        "clusters/production",
        "--ref",
        "no-such-branch",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--ref no-such-branch"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn run_at_a_git_ref_reports_the_commit_as_flux_does() {
    let repo = committed_fleet();
    // The work tree is broken; the committed fleet is not.
    std::fs::write(
        repo.path().join("clusters/production/broken.yaml"),
        "kind: [unclosed\n",
    )
    .expect("write");
    let key = example_key();
    let (code, report, stderr) = run_json(
        repo.path(),
        &["--ref", "main", "--decryption-key", &key.to_string_lossy()],
    );
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let source = object(&report, "GitRepository", "flux-system/flux-system");
    let revision = source["revision"].as_str().unwrap();
    assert!(
        revision.starts_with("main@sha1:") && revision.len() == "main@sha1:".len() + 40,
        "{revision}"
    );
}

#[test]
fn local_apiserver_serves_kubectl_until_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_flux"))
        .args([
            "local",
            "apiserver",
            "--port",
            &port.to_string(),
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !kubeconfig.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no kubeconfig written"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let kubectl = |args: &[&str]| {
        Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(args)
            .output()
            .expect("kubectl")
    };
    let out = kubectl(&["create", "namespace", "team-a"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = kubectl(&["get", "namespaces", "-o", "name"]);
    assert!(
        text(&out.stdout).contains("namespace/team-a"),
        "{}",
        text(&out.stdout)
    );
    // Ready for the controller binaries: Flux's CRDs and namespace are there from the start.
    assert!(
        text(&out.stdout).contains("namespace/flux-system"),
        "{}",
        text(&out.stdout)
    );
    let out = kubectl(&["get", "gitrepositories,kustomizations,helmreleases", "-A"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}
