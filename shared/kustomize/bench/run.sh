#!/usr/bin/env bash
# Benchmark: kubectl kustomize vs flux-kustomize (release build of examples/kbuild.rs) on a large
# generated overlay (N Deployments with Services; prefix, namespace, labels, images, JSON patch).
# Prints the median wall time of RUNS runs each, the speed ratio and peak memory (VmHWM / maxrss).
# Usage: bench/run.sh [N=300] [RUNS=7]
set -euo pipefail
N=${1:-300}
RUNS=${2:-7}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work/base" "$work/overlay"
[ -z "${KEEP:-}" ] || echo "overlay kept in $work/overlay"
{
  echo "resources:"
  for i in $(seq 1 "$N"); do echo "- app-$i.yaml"; done
} > "$work/base/kustomization.yaml"
for i in $(seq 1 "$N"); do
  cat > "$work/base/app-$i.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-$i
  labels:
    app: app-$i
spec:
  replicas: 1
  selector:
    matchLabels:
      app: app-$i
  template:
    metadata:
      labels:
        app: app-$i
    spec:
      containers:
      - name: app
        image: ghcr.io/example/app:1.0.$i
        args: ["--port=8080", "--log-level=info"]
        ports:
        - containerPort: 8080
        env:
        - name: INDEX
          value: "$i"
        resources:
          limits:
            memory: 128Mi
---
apiVersion: v1
kind: Service
metadata:
  name: app-$i
spec:
  selector:
    app: app-$i
  ports:
  - port: 80
    targetPort: 8080
YAML
done
cat > "$work/overlay/kustomization.yaml" <<'YAML'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../base
namespace: bench
namePrefix: prod-
labels:
- pairs:
    env: prod
    team: platform
  includeSelectors: true
images:
- name: ghcr.io/example/app
  newName: registry.example.com/app
  newTag: "2.0.0"
patches:
- target:
    kind: Deployment
  patch: |-
    - op: replace
      path: /spec/replicas
      value: 3
YAML

cd "$here/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/targets/kustomize}
cargo build --release --example kbuild -p flux-kustomize >/dev/null 2>&1
bin="$CARGO_TARGET_DIR/release/examples/kbuild"

if ! cmp -s <(kubectl kustomize "$work/overlay") <("$bin" "$work/overlay"); then
  echo "WARNING: outputs differ on the benchmark overlay"
fi

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_runs() {
  for _ in $(seq 1 "$RUNS"); do
    local s e
    s=$(now); "$@" >/dev/null; e=$(now)
    echo $(( (e - s) / 1000 ))
  done | median
}
peak_kb() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}'
  else
    python3 -c 'import resource,subprocess,sys; subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
  fi
}
k_us=$(time_runs kubectl kustomize "$work/overlay")
f_us=$(time_runs "$bin" "$work/overlay")
k_mem=$(peak_kb kubectl kustomize "$work/overlay")
f_mem=$(peak_kb "$bin" "$work/overlay")
echo "resources: $((N * 2)), runs: $RUNS (median)"
echo "kubectl kustomize : $((k_us / 1000)) ms, peak ${k_mem} KiB"
echo "flux-kustomize    : $((f_us / 1000)) ms, peak ${f_mem} KiB"
awk -v k="$k_us" -v f="$f_us" -v km="$k_mem" -v fm="$f_mem" 'BEGIN { printf "speed ratio: %.1fx faster, memory ratio: %.1fx less\n", k/f, km/fm }'
