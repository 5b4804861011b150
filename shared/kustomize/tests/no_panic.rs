//! Malformed input never panics: random bytes and mangled YAML through the parser, broken
//! kustomizations through the whole build, bad patches through both patch engines.

use flux_kustomize::yaml::{Node, emit_document, parse_documents};
use flux_kustomize::{BuildOptions, build_to_yaml, json6902, smp};

/// A small deterministic generator so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEED_DOCS: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {x: 1}\ndata:\n  k: |\n    v\n",
    "- op: replace\n  path: /spec/replicas\n  value: 3\n- op: add\n  path: /a/-\n  value: [1, {b: c}]\n",
    "spec:\n  template:\n    spec:\n      containers:\n      - name: a\n        $patch: delete\n      - name: b\n        env: null\n",
    "a: &x [1, 2]\nb: *x\nc: !!str 5\nd: 'q''q'\ne: \"\\u263A\"\n",
    "resources: [a.yaml, ../x, https://example.com/x]\npatches:\n- target: {kind: '('}\n  patch: '- op: x'\n",
];

fn mutate(rng: &mut Rng, s: &str) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    for _ in 0..=rng.below(6) {
        let pool = b":-[]{}&*!|>'\"%@`#,?\n \t\\$/0123456789abcxyz\xff\xfe\x00";
        let c = pool[rng.below(pool.len())];
        match rng.below(3) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] = c;
            }
            1 => {
                let i = rng.below(b.len() + 1);
                b.insert(i, c);
            }
            _ if !b.is_empty() => {
                let i = rng.below(b.len());
                b.remove(i);
            }
            _ => {}
        }
    }
    b
}

#[test]
fn parser_and_emitter_survive_random_bytes_and_mangled_yaml() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let bytes: Vec<u8> = if round % 3 == 0 {
            (0..rng.below(200)).map(|_| rng.next() as u8).collect()
        } else {
            let seed = SEED_DOCS[rng.below(SEED_DOCS.len())];
            mutate(&mut rng, seed)
        };
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(docs) = parse_documents(&text) {
            for d in &docs {
                // Whatever parsed must print and parse back to the same tree.
                let printed = emit_document(d);
                let again =
                    parse_documents(&printed).unwrap_or_else(|e| panic!("{printed:?}: {e}"));
                if !matches!(d, Node::Map(_)) {
                    continue;
                }
                assert_eq!(again.len(), 1, "{printed:?}");
            }
        }
    }
}

#[test]
fn deeply_nested_input_is_an_error_not_a_stack_overflow() {
    let deep = "[".repeat(5000);
    assert!(parse_documents(&deep).is_err());
}

#[test]
fn patch_engines_survive_bad_patches() {
    let mut rng = Rng(42);
    let target = parse_documents(SEED_DOCS[0]).unwrap().remove(0);
    for _ in 0..2000 {
        let seed = SEED_DOCS[1 + rng.below(2)];
        let bytes = mutate(&mut rng, seed);
        let Ok(docs) = parse_documents(&String::from_utf8_lossy(&bytes)) else {
            continue;
        };
        for p in docs {
            let mut t = target.clone();
            let _ = json6902::apply(&mut t, &p);
            let _ = smp::apply(&target, &p);
        }
    }
}

#[test]
fn builds_of_broken_kustomizations_fail_cleanly() {
    let mut rng = Rng(7);
    for _ in 0..300 {
        let dir = tempfile::tempdir().unwrap();
        let k = mutate(
            &mut rng,
            "resources: [a.yaml]\nnamePrefix: p-\ncommonLabels: {a: b}\nimages: [{name: x, newTag: y}]\n",
        );
        let a = mutate(&mut rng, SEED_DOCS[0]);
        std::fs::write(dir.path().join("kustomization.yaml"), k).unwrap();
        std::fs::write(dir.path().join("a.yaml"), a).unwrap();
        let _ = build_to_yaml(dir.path(), &BuildOptions::default());
    }
}
