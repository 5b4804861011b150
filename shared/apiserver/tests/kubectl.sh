#!/usr/bin/env bash
# The real kubectl against the in-memory API server named by $KUBECONFIG.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# Run a command and grep its whole output (grep -q on a pipe could SIGPIPE it under pipefail).
output_has() { local pattern=$1; shift; local out; out=$("$@"); grep -Eq -- "$pattern" <<<"$out"; }
expect() { local want=$1; shift; local got; got=$("$@"); [[ "$got" == "$want" ]] || fail "$* gave '$got', want '$want'"; }

kubectl version -o json >/dev/null
kubectl create namespace team-a
kubectl create namespace team-b
kubectl create configmap cfg -n team-a --from-literal=a=1
kubectl create secret generic sec -n team-a --from-literal=password=s3cr3t
expect "czNjcjN0" kubectl get secret sec -n team-a -o jsonpath='{.data.password}'

cat >"$work/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
YAML
kubectl apply -f "$work/crd.yaml"
# grep -q on a pipe would make kubectl die of SIGPIPE under pipefail: read the whole output first.
resources=$(kubectl api-resources)
grep -q '^widgets *wd *example.com/v1 *true *Widget' <<<"$resources" || fail "api-resources lacks widgets"

cat >"$work/w.yaml" <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: team-a}
spec: {size: 3}
YAML
kubectl apply -f "$work/w.yaml"
expect "widget.example.com/w1 unchanged" kubectl apply -f "$work/w.yaml"
output_has '^w1 +3 +' kubectl get wd -n team-a -o wide || fail "printer columns missing"
output_has '^NAME +SIZE +READY +AGE' kubectl get wd -n team-a || fail "header columns wrong"
expect "3" kubectl get widget w1 -n team-a -o jsonpath='{.spec.size}'
output_has 'size: 3' kubectl get widget w1 -n team-a -o yaml || fail "-o yaml"
output_has '"size": 3' kubectl get widget w1 -n team-a -o json || fail "-o json"
if kubectl apply -f - <<<'{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"bad","namespace":"team-a"},"spec":{"size":0}}' 2>"$work/err"; then
  fail "invalid widget accepted"
fi
grep -q 'spec.size' "$work/err" || fail "validation error does not name spec.size: $(cat "$work/err")"
if kubectl apply -f - <<<'{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"typo","namespace":"team-a"},"spec":{"sise":2}}' 2>"$work/err"; then
  fail "unknown field accepted by kubectl's strict validation"
fi
grep -q 'unknown field "spec.sise"' "$work/err" || fail "strict error: $(cat "$work/err")"

# label, annotate, the three patch types
kubectl label widget w1 -n team-a tier=web
kubectl annotate widget w1 -n team-a note=hello
expect "web hello" kubectl get widget w1 -n team-a -o jsonpath='{.metadata.labels.tier} {.metadata.annotations.note}'
kubectl patch widget w1 -n team-a --type=merge -p '{"spec":{"size":4}}'
kubectl patch widget w1 -n team-a --type=json -p '[{"op":"replace","path":"/spec/size","value":5}]'
expect "5" kubectl get widget w1 -n team-a -o jsonpath='{.spec.size}'
kubectl patch configmap cfg -n team-a -p '{"data":{"b":"2"}}'
expect "1 2" kubectl get configmap cfg -n team-a -o jsonpath='{.data.a} {.data.b}'

# get -w sees an update made while it watches
kubectl get configmap cfg -n team-a -w --output-watch-events >"$work/watch" 2>&1 &
watcher=$!
for _ in $(seq 100); do grep -q cfg "$work/watch" && break; sleep 0.1; done
kubectl label configmap cfg -n team-a seen=yes
for _ in $(seq 100); do grep -q MODIFIED "$work/watch" && break; sleep 0.1; done
kill "$watcher" 2>/dev/null || true
grep -q 'MODIFIED' "$work/watch" || fail "get -w missed the update: $(cat "$work/watch")"

# wait for a condition set through the status subresource
kubectl patch widget w1 -n team-a --subresource=status --type=merge \
  -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Done","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}'
kubectl wait --for=condition=Ready widget/w1 -n team-a --timeout=10s
output_has '^w1 +5 +True' kubectl get wd -n team-a || fail "Ready column not shown"

# diff shows a change without making it
sed 's/size: 3/size: 9/' "$work/w.yaml" >"$work/w9.yaml"
set +e; kubectl diff -f "$work/w9.yaml" >"$work/diff"; rc=$?; set -e
[[ $rc == 1 ]] && grep -q '+  size: 9' "$work/diff" || fail "diff rc=$rc $(cat "$work/diff")"
expect "5" kubectl get widget w1 -n team-a -o jsonpath='{.spec.size}'

# delete blocks on a finalizer until it is removed
kubectl patch configmap cfg -n team-a --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}'
kubectl delete configmap cfg -n team-a --wait=false
[[ -n "$(kubectl get configmap cfg -n team-a -o jsonpath='{.metadata.deletionTimestamp}')" ]] || fail "no deletionTimestamp"
if timeout 2 kubectl wait --for=delete configmap/cfg -n team-a --timeout=1s 2>/dev/null; then fail "deleted despite finalizer"; fi
kubectl patch configmap cfg -n team-a --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
kubectl wait --for=delete configmap/cfg -n team-a --timeout=5s

# client-side apply of a built-in kind uses strategic merge (containers merged by name)
cat >"$work/d.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: team-a}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - {name: main, image: "nginx:1", env: [{name: A, value: "1"}]}
YAML
kubectl apply -f "$work/d.yaml"
sed -i 's/nginx:1/nginx:2/' "$work/d.yaml"
kubectl apply -f "$work/d.yaml"
expect "nginx:2" kubectl get deploy app -n team-a -o jsonpath='{.spec.template.spec.containers[0].image}'
# an env entry dropped from the file is removed by its merge key, the new one added
sed -i 's/env: \[{name: A, value: "1"}\]/env: [{name: B, value: "2"}]/' "$work/d.yaml"
kubectl apply -f "$work/d.yaml"
expect "B=2" kubectl get deploy app -n team-a -o jsonpath='{range .spec.template.spec.containers[0].env[*]}{.name}={.value}{end}'
sed 's/replicas: 2/replica: 2/' "$work/d.yaml" >"$work/typo.yaml"
if kubectl apply -f "$work/typo.yaml" 2>"$work/err"; then fail "typo in a Deployment accepted"; fi
grep -q 'unknown field "spec.replica"' "$work/err" || fail "strict error for built-in: $(cat "$work/err")"
if [[ "${SIMULATE:-0}" == 1 ]]; then
  kubectl wait --for=condition=Available deploy/app -n team-a --timeout=10s
  kubectl wait --for=condition=Ready pod -l app=app -n team-a --timeout=10s
  [[ $(kubectl get pods -n team-a -l app=app -o name | wc -l) == 2 ]] || fail "want 2 pods"
fi

# explain reads the OpenAPI v3 schemas of built-in kinds and CRDs
output_has 'Number of desired pods' kubectl explain deployment.spec.replicas || fail "explain of a built-in kind"
output_has 'FIELD: *size <integer>' kubectl explain widget.spec.size || fail "explain of a custom resource"
output_has 'ConfigMap holds configuration data' kubectl explain configmap --output plaintext-openapiv2 || fail "explain from OpenAPI v2"

# authorization
expect "yes" kubectl auth can-i list pods -n team-b
set +e; out=$(kubectl auth can-i list configmaps -n team-b --as system:serviceaccount:team-a:flux); set -e
[[ "$out" == "no" ]] || fail "SA may read another namespace: $out"

kubectl create role cm-reader -n team-a --verb=get,list --resource=configmaps
kubectl create rolebinding flux-reads -n team-a --role=cm-reader --serviceaccount=team-a:flux
expect "yes" kubectl auth can-i list configmaps -n team-a --as system:serviceaccount:team-a:flux
set +e; out=$(kubectl auth can-i delete configmaps -n team-a --as system:serviceaccount:team-a:flux); set -e
[[ "$out" == "no" ]] || fail "SA may delete without a grant: $out"
kubectl get configmaps -n team-a --as system:serviceaccount:team-a:flux >/dev/null
if kubectl get configmaps -n team-b --as system:serviceaccount:team-a:flux 2>"$work/err"; then fail "impersonated SA read team-b"; fi
grep -q 'Forbidden' "$work/err" || fail "no Forbidden: $(cat "$work/err")"

# tokens minted by the TokenRequest API authenticate as the ServiceAccount
kubectl create serviceaccount flux -n team-a
token=$(kubectl create token flux -n team-a)
[[ -n "$token" ]] || fail "empty token"
output_has '^admin$' kubectl auth whoami -o jsonpath='{.status.userInfo.username}' || fail "whoami is not admin"

# server-side apply: a conflict names the other manager, --force-conflicts takes the field
sed 's/name: w1/name: w2/' "$work/w.yaml" >"$work/w2.yaml"
kubectl apply --server-side --field-manager=alice -f "$work/w2.yaml"
sed 's/size: 3/size: 7/' "$work/w2.yaml" >"$work/w7.yaml"
if kubectl apply --server-side --field-manager=bob -f "$work/w7.yaml" 2>"$work/err"; then fail "SSA conflict not reported"; fi
grep -q 'conflict with "alice"' "$work/err" || fail "conflict message: $(cat "$work/err")"
kubectl apply --server-side --field-manager=bob --force-conflicts -f "$work/w7.yaml"
expect "7" kubectl get widget w2 -n team-a -o jsonpath='{.spec.size}'
output_has 'manager: bob' kubectl get widget w2 -n team-a -o yaml --show-managed-fields || fail "bob not in managedFields"
# Flux's install manifests (CRDs, RBAC, Deployments) apply and their kinds are discoverable.
if [[ -n "${FLUX_MANIFESTS:-}" ]]; then
  for f in "$FLUX_MANIFESTS"/namespace.yaml "$FLUX_MANIFESTS"/*/crds.yaml "$FLUX_MANIFESTS"/*/rbac.yaml "$FLUX_MANIFESTS"/*/deployment.yaml; do
    [[ -f "$f" ]] || continue
    kubectl apply -f "$f" >/dev/null
  done
  resources=$(kubectl api-resources)
  for kind in gitrepositories.*source.toolkit.fluxcd.io kustomizations.*kustomize.toolkit.fluxcd.io helmreleases.*helm.toolkit.fluxcd.io; do
    grep -Eq "^${kind%%.*} .*${kind#*\*}" <<<"$resources" || fail "api-resources lacks $kind"
  done
  kubectl get kustomizations -A >/dev/null
fi
echo "kubectl checks passed"
