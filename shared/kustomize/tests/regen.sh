#!/usr/bin/env bash
# Regenerates expected.yaml / expected-error.txt of every golden case with the oracle,
# `kubectl kustomize` (kustomize v5.5). Usage: tests/regen.sh [case...]
set -u
cd "$(dirname "$0")"
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  cases=(golden/*/ pending/*/)
fi
for c in "${cases[@]}"; do
  c=${c%/}
  [ -d "$c/in" ] || continue
  rm -f "$c/expected.yaml" "$c/expected-error.txt"
  if kubectl kustomize "$c/in" >"$c/expected.yaml" 2>/tmp/regen-err.$$; then
    :
  else
    rm -f "$c/expected.yaml"
    sed -e 's/^E[0-9]* [0-9:.]* *[0-9]* run.go:[0-9]*\] "command failed" err=//' /tmp/regen-err.$$ > "$c/expected-error.txt"
  fi
  rm -f /tmp/regen-err.$$
done
