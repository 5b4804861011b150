//! Random JSON through every entry point: nothing panics, and the properties that must hold
//! for any input do (merge patch idempotence, strategic merge without schema or directives
//! equals merge patch, field sets survive a fieldsV1 round trip).

use flux_apimachinery::managed_fields::{self, FieldSet};
use flux_apimachinery::selectors::{FieldSelector, LabelSelector};
use flux_apimachinery::strategic_merge::builtin_schema;
use flux_apimachinery::{json_patch, merge_patch, schema, strategic_merge};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::JSONSchemaProps;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use serde_json::{Map, Value, json};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const KEYS: &[&str] = &[
    "metadata",
    "spec",
    "status",
    "name",
    "labels",
    "finalizers",
    "containers",
    "image",
    "env",
    "value",
    "ports",
    "containerPort",
    "template",
    "replicas",
    "op",
    "path",
    "from",
    "a",
    "b",
    "$patch",
    "$retainKeys",
    "$setElementOrder/containers",
    "$deleteFromPrimitiveList/finalizers",
    "type",
    "items",
    "properties",
    "required",
    "enum",
    "x-kubernetes-list-type",
];
const STRINGS: &[&str] = &[
    "", "a", "app", "delete", "replace", "merge", "add", "remove", "move", "copy", "test", "/spec",
    "/a/0", "/-", "~1", "object", "array", "string", "integer", "map", "set",
];

fn random_value(rng: &mut Rng, depth: usize) -> Value {
    let kinds = if depth == 0 { 5 } else { 7 };
    match rng.below(kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => json!(rng.below(20) as i64 - 5),
        3 => json!(rng.below(1000) as f64 / 7.0),
        4 => json!(STRINGS[rng.below(STRINGS.len())]),
        5 => {
            let n = rng.below(4);
            Value::Array((0..n).map(|_| random_value(rng, depth - 1)).collect())
        }
        _ => {
            let n = rng.below(5);
            let mut m = Map::new();
            for _ in 0..n {
                m.insert(
                    KEYS[rng.below(KEYS.len())].to_string(),
                    random_value(rng, depth - 1),
                );
            }
            Value::Object(m)
        }
    }
}

fn random_object(rng: &mut Rng) -> Value {
    match random_value(rng, 4) {
        Value::Object(m) => Value::Object(m),
        other => json!({"spec": other}),
    }
}

fn has_directive(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, v)| k.starts_with('$') || has_directive(v)),
        Value::Array(items) => items.iter().any(has_directive),
        _ => false,
    }
}

#[test]
fn random_documents_never_panic_and_keep_patch_properties() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let deployment = builtin_schema("apps/v1", "Deployment");
    let time = Time(Timestamp::from_second(1_700_000_000).unwrap());
    for _ in 0..3000 {
        let doc = random_object(&mut rng);
        let patch = random_value(&mut rng, 4);

        let merged = merge_patch::apply(&doc, &patch);
        assert_eq!(
            merge_patch::apply(&merged, &patch),
            merged,
            "merge patch is idempotent"
        );

        let _ = json_patch::apply(&doc, &patch);
        let ops = json!([{"op": STRINGS[rng.below(STRINGS.len())], "path": STRINGS[rng.below(STRINGS.len())],
                          "from": STRINGS[rng.below(STRINGS.len())], "value": random_value(&mut rng, 2)}]);
        let _ = json_patch::apply(&doc, &ops);

        let smp = strategic_merge::apply(&doc, &patch, None);
        if patch.is_object() && !has_directive(&patch) {
            assert_eq!(
                smp.as_ref().ok(),
                Some(&merged),
                "no schema, no directives: a merge patch"
            );
        }
        let _ = strategic_merge::apply(&doc, &patch, deployment.as_ref());

        let set = FieldSet::from_object(&doc, deployment.as_ref());
        assert_eq!(
            FieldSet::from_fields_v1(&set.to_fields_v1()).as_ref(),
            Ok(&set)
        );

        let config = random_object(&mut rng);
        if let Ok(created) = managed_fields::apply(
            None,
            &config,
            "m",
            false,
            &[],
            time.clone(),
            deployment.as_ref(),
        ) {
            assert_eq!(
                created.object, config,
                "creating applies the configuration as is"
            );
            let again = managed_fields::apply(
                Some(&created.object),
                &config,
                "m",
                false,
                &created.managed_fields,
                time.clone(),
                deployment.as_ref(),
            )
            .expect("re-applying one's own configuration never conflicts");
            assert_eq!(again.object, created.object, "re-applying is a no-op");
            assert_eq!(again.managed_fields, created.managed_fields);
            let _ = managed_fields::apply(
                Some(&created.object),
                &doc,
                "n",
                rng.below(2) == 0,
                &created.managed_fields,
                time.clone(),
                deployment.as_ref(),
            );
            let _ = managed_fields::update(
                Some(&created.object),
                &doc,
                "u",
                "Update",
                &created.managed_fields,
                time.clone(),
                deployment.as_ref(),
            );
        }
        let _ = managed_fields::update(Some(&doc), &config, "u", "Update", &[], time.clone(), None);

        if let Ok(s) = serde_json::from_value::<JSONSchemaProps>(patch.clone()) {
            let mut obj = doc.clone();
            schema::apply_defaults(&mut obj, &s);
            schema::prune(&mut obj, &s);
            let _ = schema::validate(&obj, &s);
        }
    }
}

#[test]
fn random_selector_strings_never_panic() {
    let mut rng = Rng(42);
    let alphabet: Vec<char> = "ab=!,() inotx\\é.-/<>1".chars().collect();
    for _ in 0..5000 {
        let len = rng.below(16);
        let s: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        if let Ok(sel) = LabelSelector::parse(&s) {
            let _ = sel.matches(&Default::default());
        }
        if let Ok(sel) = FieldSelector::parse(&s) {
            let _ = sel.matches(&json!({"metadata": {"name": "a"}}));
        }
    }
}
