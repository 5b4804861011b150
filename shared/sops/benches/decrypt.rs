//! Prints how long decrypting the sops fixtures takes per file, per key type and format:
//! `cargo bench -p flux-sops --bench decrypt`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use flux_sops::{Format, Keyring, decrypt};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |rel: &str| std::fs::read(root.join(rel)).unwrap_or_default();
    let data = BTreeMap::from([
        ("age.agekey".to_string(), read("keys/age.txt")),
        ("pq.agekey".to_string(), read("keys/age-pq.txt")),
        ("pgp.asc".to_string(), read("keys/pgp.asc")),
    ]);
    let started = Instant::now();
    let keys = match Keyring::from_secret_data(&data) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("keyring: {e}");
            return;
        }
    };
    println!("keyring from Secret data: {:?}", started.elapsed());
    for (rel, rounds) in [
        ("algorithms/age.yaml", 200),
        ("algorithms/age-pq.yaml", 50),
        ("algorithms/pgp.yaml", 20),
        ("envs/env.env", 200),
        ("files/file.txt", 200),
    ] {
        let input = read(rel);
        let format = Format::from_path(Path::new(rel));
        let started = Instant::now();
        for _ in 0..rounds {
            if let Err(e) = decrypt(&input, format, &keys) {
                eprintln!("{rel}: {e}");
                return;
            }
        }
        let per = started.elapsed() / rounds;
        println!("{rel:<24} {format:<7} {per:>12.2?} per decrypt ({rounds} rounds)");
    }
}
