#!/usr/bin/env bash
# Benchmark for `flux local run` (issue #10): a generated fleet of KS Kustomizations applying
# OBJECTS objects in all, reconciled to all-Ready; prints wall time and peak RSS next to the
# goals (under 20 s and under 200 MiB for 200 Kustomizations and 5,000 objects).
#
#   bash cli/bench/local_run.sh [KUSTOMIZATIONS] [OBJECTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ks=${1:-200}
objects=${2:-5000}
per=$(( objects / ks ))

[ -n "${FLUX_BIN:-}" ] || cargo build --release -p flux-cli --quiet
flux=${FLUX_BIN:-target/release/flux}

fleet=$(mktemp -d)
trap '[ -n "${KEEP_FLEET:-}" ] || rm -rf "$fleet"' EXIT
mkdir -p "$fleet/clusters/bench"
for i in $(seq 1 "$ks"); do
  app="$fleet/apps/app$i"
  mkdir -p "$app"
  {
    echo "apiVersion: v1"
    echo "kind: Namespace"
    echo "metadata:"
    echo "  name: app$i"
  } > "$app/namespace.yaml"
  # One Deployment (health-checked through the workload simulator), the rest ConfigMaps.
  {
    echo "apiVersion: apps/v1"
    echo "kind: Deployment"
    echo "metadata:"
    echo "  name: web"
    echo "  namespace: app$i"
    echo "spec:"
    echo "  replicas: 2"
    echo "  selector:"
    echo "    matchLabels: {app: web}"
    echo "  template:"
    echo "    metadata:"
    echo "      labels: {app: web}"
    echo "    spec:"
    echo "      containers:"
    echo "        - name: web"
    echo "          image: nginx:1.27"
  } > "$app/deployment.yaml"
  for j in $(seq 1 $(( per - 2 ))); do
    echo "---"
    echo "apiVersion: v1"
    echo "kind: ConfigMap"
    echo "metadata:"
    echo "  name: config-$j"
    echo "  namespace: app$i"
    echo "data:"
    echo "  index: \"$j\""
    echo "  app: app$i"
  done > "$app/configmaps.yaml"
  cat > "$fleet/clusters/bench/app$i.yaml" <<KS
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: app$i
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/app$i
  prune: true
  wait: true
  sourceRef:
    kind: GitRepository
    name: flux-system
KS
done
cat > "$fleet/clusters/bench/source.yaml" <<'SRC'
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m
  url: https://example.com/fleet
  ref:
    branch: main
SRC

echo "fleet: $ks Kustomizations, $(( ks * per )) objects"
log=$(mktemp)
/usr/bin/time -f "%e %M %U %S" -o "$log.time" "$flux" local run "$fleet" --path clusters/bench --timeout 5m > "$log" 2>/dev/null || {
  tail -5 "$log"; echo "run failed"; exit 1; }
tail -1 "$log"
read -r secs kib user sys < "$log.time"
awk -v s="$secs" -v k="$kib" -v u="$user" -v y="$sys" 'BEGIN {
  printf "time to all-Ready: %.1f s (goal < 20 s)\n", s;
  printf "peak RSS: %.0f MiB (goal < 200 MiB)\n", k / 1024;
  printf "CPU: %.1f s user, %.1f s system\n", u, y }'
