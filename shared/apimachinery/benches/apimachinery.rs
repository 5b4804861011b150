//! Prints how long the hot paths of the API server take on a realistic Deployment:
//! server-side apply (create and re-apply), strategic merge patch, and CRD validation.
//! Run with `cargo bench -p flux-apimachinery`.

use std::hint::black_box;
use std::time::Instant;

use flux_apimachinery::managed_fields::apply;
use flux_apimachinery::schema::{apply_defaults, prune, validate};
use flux_apimachinery::strategic_merge::{self, builtin_schema};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

fn deployment(containers: usize, image: &str) -> Value {
    let containers: Vec<Value> = (0..containers)
        .map(|i| {
            json!({
                "name": format!("c{i}"), "image": format!("{image}:{i}"),
                "ports": [{"containerPort": 8000 + i, "protocol": "TCP"}],
                "env": (0..10).map(|e| json!({"name": format!("E{e}"), "value": "v"})).collect::<Vec<_>>(),
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}
            })
        })
        .collect();
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}
    })
}

fn time<T>(name: &str, iterations: u32, mut f: impl FnMut() -> T) {
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(f());
    }
    let per = start.elapsed() / iterations;
    println!("{name:<48} {per:>12.2?} per op ({iterations} ops)");
}

fn main() {
    let schema = builtin_schema("apps/v1", "Deployment");
    let now = Time(Timestamp::UNIX_EPOCH);
    let small = deployment(2, "nginx");
    let large = deployment(50, "nginx");
    let large_v2 = deployment(50, "envoy");

    time("ssa create, 2 containers", 2000, || {
        apply(
            None,
            &small,
            "flux",
            false,
            &[],
            now.clone(),
            schema.as_ref(),
        )
    });
    let created = apply(
        None,
        &large,
        "flux",
        false,
        &[],
        now.clone(),
        schema.as_ref(),
    )
    .expect("create applies");
    time("ssa create, 50 containers x 10 env", 50, || {
        apply(
            None,
            &large,
            "flux",
            false,
            &[],
            now.clone(),
            schema.as_ref(),
        )
    });
    time("ssa re-apply changed images, 50 containers", 50, || {
        apply(
            Some(&created.object),
            &large_v2,
            "flux",
            true,
            &created.managed_fields,
            now.clone(),
            schema.as_ref(),
        )
    });
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c7", "image": "x"}]}}}});
    time("strategic merge patch, 50 containers", 500, || {
        strategic_merge::apply(&large, &patch, schema.as_ref())
    });

    let crd: JSONSchemaProps = serde_json::from_value(json!({
        "type": "object",
        "properties": {"spec": {"type": "object", "required": ["interval"], "properties": {
            "interval": {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"},
            "prune": {"type": "boolean", "default": false},
            "path": {"type": "string"},
            "patches": {"type": "array", "items": {"type": "object", "properties": {
                "patch": {"type": "string"}, "target": {"type": "object", "properties": {"kind": {"type": "string"}}}}}}
        }}}
    }))
    .expect("benchmark schema is valid");
    let obj = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps"},
        "spec": {"interval": "10m", "path": "./apps", "extra": 1,
                 "patches": (0..20).map(|i| json!({"patch": format!("p{i}"), "target": {"kind": "Deployment"}})).collect::<Vec<_>>()}});
    time("crd default + prune + validate, 20 patches", 2000, || {
        let mut o = obj.clone();
        apply_defaults(&mut o, &crd);
        prune(&mut o, &crd);
        validate(&o, &crd)
    });
}
