#!/usr/bin/env bash
# The sources check with the binaries, as a user would run it: `flux local apiserver`, the
# source-controller binary against it, and one object of each source kind served by a real
# server on loopback (git daemon, docker-registry fed by `flux push artifact`, a static Helm
# repository, moto S3). Each must become Ready, and each artifact is downloaded from its URL
# and its sha256 compared with status.artifact.digest.
#
#   bash scripts/check-sources.sh            # builds the debug binaries first
#   FLUX_BIN=... SOURCE_CONTROLLER_BIN=... bash scripts/check-sources.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ -z "${FLUX_BIN:-}" ] || [ -z "${SOURCE_CONTROLLER_BIN:-}" ]; then
  cargo build --locked -q -p flux-cli -p source-controller
  target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
  FLUX_BIN=${FLUX_BIN:-$target/debug/flux}
  SOURCE_CONTROLLER_BIN=${SOURCE_CONTROLLER_BIN:-$target/debug/source-controller}
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "check-sources: nothing listens on port $1" >&2
  return 1
}
step() { printf '== %s\n' "$*"; }

step "flux local apiserver"
api_port=$(free_port)
"$FLUX_BIN" local apiserver --port "$api_port" --kubeconfig "$work/kubeconfig" >"$work/apiserver.log" 2>&1 &
pids+=($!)
wait_port "$api_port"
export KUBECONFIG=$work/kubeconfig
for _ in $(seq 1 100); do kubectl get namespaces >/dev/null 2>&1 && break; sleep 0.1; done

step "source-controller"
storage_port=$(free_port)
health_port=$(free_port)
metrics_port=$(free_port)
"$SOURCE_CONTROLLER_BIN" --storage-path "$work/storage" --storage-addr "127.0.0.1:$storage_port" \
  --storage-adv-addr "127.0.0.1:$storage_port" --health-addr "127.0.0.1:$health_port" \
  --metrics-addr "127.0.0.1:$metrics_port" >"$work/source-controller.log" 2>&1 &
pids+=($!)
wait_port "$storage_port"

step "git daemon"
mkdir -p "$work/git/src"
git -C "$work/git/src" init -q -b main
mkdir -p "$work/git/src/deploy"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n' >"$work/git/src/deploy/app.yaml"
git -C "$work/git/src" add -A
git -C "$work/git/src" -c user.name=check -c user.email=check@example.com commit -q -m initial
git clone -q --bare "$work/git/src" "$work/git/fleet.git"
git_port=$(free_port)
git daemon --reuseaddr --export-all --listen=127.0.0.1 --port="$git_port" --base-path="$work/git" "$work/git" \
  >"$work/git-daemon.log" 2>&1 &
pids+=($!)
wait_port "$git_port"

step "docker-registry + flux push artifact"
registry_port=$(free_port)
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$registry_port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
wait_port "$registry_port"
pushed=$("$FLUX_BIN" push artifact "oci://127.0.0.1:$registry_port/fleet/app:v1" --path "$work/git/src/deploy" \
  --source "git://127.0.0.1:$git_port/fleet.git" --revision "main@sha1:$(git -C "$work/git/src" rev-parse HEAD)" 2>&1)
echo "$pushed"
manifest_digest=$(grep -oE 'sha256:[0-9a-f]{64}' <<<"$pushed" | tail -1)

step "Helm repository"
mkdir -p "$work/charts"
for v in 0.1.0 0.2.0; do
  cp "$root/source-controller/tests/fixtures/charts/compressedchart-$v.tgz" "$work/charts/"
done
helm_port=$(free_port)
cat >"$work/charts/index.yaml" <<EOF
apiVersion: v1
entries:
  compressedchart:
  - apiVersion: v1
    name: compressedchart
    version: 0.2.0
    urls: [compressedchart-0.2.0.tgz]
  - apiVersion: v1
    name: compressedchart
    version: 0.1.0
    urls: [compressedchart-0.1.0.tgz]
EOF
python3 -m http.server --bind 127.0.0.1 --directory "$work/charts" "$helm_port" >/dev/null 2>&1 &
pids+=($!)
wait_port "$helm_port"

step "moto S3"
s3_port=$(free_port)
moto=(moto_server)
command -v moto_server >/dev/null || moto=(python3 -m moto.server)
"${moto[@]}" -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_port "$s3_port"
AWS_ACCESS_KEY_ID=check AWS_SECRET_ACCESS_KEY=check python3 - "$s3_port" <<'EOF'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1")
s3.create_bucket(Bucket="fleet")
s3.put_object(Bucket="fleet", Key="apps/app.yaml", Body=b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-s3\n")
EOF

step "apply the sources"
kubectl apply -f - >/dev/null <<EOF
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec:
  interval: 1m
  url: git://127.0.0.1:$git_port/fleet.git
  ref: {branch: main}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: app, namespace: flux-system}
spec:
  interval: 1m
  url: oci://127.0.0.1:$registry_port/fleet/app
  ref: {tag: v1}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec:
  interval: 1m
  url: http://127.0.0.1:$helm_port
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {name: compressed, namespace: flux-system}
spec:
  interval: 1m
  chart: compressedchart
  version: ">=0.1.0"
  sourceRef: {kind: HelmRepository, name: charts}
---
apiVersion: v1
kind: Secret
metadata: {name: s3-creds, namespace: flux-system}
stringData: {accesskey: check, secretkey: check}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: Bucket
metadata: {name: bucket, namespace: flux-system}
spec:
  interval: 1m
  provider: generic
  bucketName: fleet
  endpoint: 127.0.0.1:$s3_port
  insecure: true
  secretRef: {name: s3-creds}
EOF

failed=0
check() {
  local kind=$1 name=$2
  if ! kubectl -n flux-system wait --for=condition=Ready --timeout=60s "$kind/$name" >/dev/null 2>&1; then
    echo "FAIL $kind/$name is not Ready: $(kubectl -n flux-system get "$kind" "$name" -o jsonpath='{.status.conditions}')"
    failed=1
    return
  fi
  local url digest revision got
  url=$(kubectl -n flux-system get "$kind" "$name" -o jsonpath='{.status.artifact.url}')
  digest=$(kubectl -n flux-system get "$kind" "$name" -o jsonpath='{.status.artifact.digest}')
  revision=$(kubectl -n flux-system get "$kind" "$name" -o jsonpath='{.status.artifact.revision}')
  got=sha256:$(curl -sf "$url" | sha256sum | cut -d' ' -f1)
  if [ "$got" != "$digest" ]; then
    echo "FAIL $kind/$name: artifact $url has $got, status says $digest"
    failed=1
    return
  fi
  echo "ok   $kind/$name Ready, revision $revision, artifact digest verified"
  printf '%s' "$revision"  >"$work/revision-$kind-$name"
}
step "wait and verify"
check gitrepository fleet
check ocirepository app
check helmrepository charts
check helmchart compressed
check bucket bucket

expect_revision() {
  local file=$work/revision-$1-$2
  [ -f "$file" ] || return 0
  if [ "$(cat "$file")" != "$3" ]; then
    echo "FAIL $1/$2 revision $(cat "$file"), want $3"
    failed=1
  fi
}
expect_revision gitrepository fleet "main@sha1:$(git -C "$work/git/src" rev-parse HEAD)"
expect_revision ocirepository app "v1@$manifest_digest"
expect_revision helmchart compressed "0.2.0"

if [ "$failed" != 0 ]; then
  echo "--- source-controller log (last 40 lines)"
  tail -40 "$work/source-controller.log"
  exit 1
fi
echo "check-sources: all sources Ready with verified artifacts"
