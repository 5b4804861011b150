#!/usr/bin/env bash
# The project's test command: formatting, lints, then every test in the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# The sources with the binaries, as a user checks them (issue #5 and #8).
bash scripts/check-sources.sh
