#!/usr/bin/env bash
# Benchmark: `kubectl kustomize DIR` vs `flux kustomize build DIR` (the release flux binary) on a
# large generated overlay (N Deployments with Services; prefix, namespace, labels, images, JSON
# patch). Prints the median wall and CPU time of RUNS runs each, the speed ratio and peak memory
# (maxrss from /usr/bin/time).
# Usage: bench/run.sh [N=300] [RUNS=7]
# The binary is $FLUX_BIN if set, else $CARGO_TARGET_DIR/release/flux (default target dir: the
# workspace's target/), built first with `cargo build --release -p flux-cli --bin flux`.
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

cd "$here/../../.."
if [ -z "${FLUX_BIN:-}" ]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
  echo "building the release flux binary (cargo build --release -p flux-cli) ..." >&2
  cargo build --release -p flux-cli --bin flux >/dev/null 2>&1 || {
    echo "cargo build --release -p flux-cli failed" >&2
    exit 1
  }
  FLUX_BIN="$CARGO_TARGET_DIR/release/flux"
fi
bin=$FLUX_BIN

if ! cmp -s <(kubectl kustomize "$work/overlay") <("$bin" kustomize build "$work/overlay"); then
  echo "WARNING: outputs differ on the benchmark overlay"
fi

# One line per run: wall seconds, user+system CPU seconds, peak RSS KiB. Wall time is taken
# around /usr/bin/time with bash's microsecond clock: %e has only 10 ms resolution.
measure() {
  local t0 t1 r
  if [ -x /usr/bin/time ]; then
    t0=$EPOCHREALTIME
    r=$(/usr/bin/time -f "%U %S %M" "$@" 2>&1 >/dev/null | tail -1)
    t1=$EPOCHREALTIME
    awk -v t0="$t0" -v t1="$t1" -v r="$r" 'BEGIN { split(r, a, " "); printf "%.4f %.3f %s\n", t1 - t0, a[1] + a[2], a[3] }'
  else
    python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.time(); subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f %.3f %d" % (time.time() - t, r.ru_utime + r.ru_stime, r.ru_maxrss))
PY
  fi
}
median_col() { awk -v c="$1" '{print $c}' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
runs() { for _ in $(seq 1 "$RUNS"); do measure "$@"; done; }
k=$(runs kubectl kustomize "$work/overlay")
f=$(runs "$bin" kustomize build "$work/overlay")
kw=$(median_col 1 <<<"$k"); kc=$(median_col 2 <<<"$k"); km=$(median_col 3 <<<"$k")
fw=$(median_col 1 <<<"$f"); fc=$(median_col 2 <<<"$f"); fm=$(median_col 3 <<<"$f")
echo "resources: $((N * 2)), runs: $RUNS each, medians (load average: $(cut -d' ' -f1 /proc/loadavg))"
printf "kubectl kustomize   : wall %6.3f s  cpu %6.3f s  peak %7d KiB\n" "$kw" "$kc" "$km"
printf "flux kustomize build: wall %6.3f s  cpu %6.3f s  peak %7d KiB\n" "$fw" "$fc" "$fm"
awk -v kw="$kw" -v fw="$fw" -v kc="$kc" -v fc="$fc" -v km="$km" -v fm="$fm" 'BEGIN {
  if (fc < 0.001) fc = 0.001
  if (fw < 0.0001) fw = 0.0001
  printf "speed ratio: %.1fx (wall), %.1fx (cpu); peak memory: %.1fx less\n", kw/fw, kc/fc, km/fm }'
