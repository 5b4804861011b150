# Builds one image per controller from the same Dockerfile:
#   docker buildx bake                      # all six, tagged ${REGISTRY}/<name>:${TAG}
#   docker buildx bake source-controller    # just one
#   REGISTRY=localhost:5001 TAG=dev docker buildx bake --push

variable "REGISTRY" {
  default = "ghcr.io/flux-rs"
}

# Keep in step with the workspace version (the image tag `flux install` uses).
variable "TAG" {
  default = "v0.1.0"
}

group "default" {
  targets = [
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
  ]
}

# Shared settings; each controller target only names its binary.
target "_controller" {
  context    = "."
  dockerfile = "Dockerfile"
}

target "source-controller" {
  inherits = ["_controller"]
  args     = { BINARY = "source-controller" }
  tags     = ["${REGISTRY}/source-controller:${TAG}"]
}

target "kustomize-controller" {
  inherits = ["_controller"]
  args     = { BINARY = "kustomize-controller" }
  tags     = ["${REGISTRY}/kustomize-controller:${TAG}"]
}

target "helm-controller" {
  inherits = ["_controller"]
  args     = { BINARY = "helm-controller" }
  tags     = ["${REGISTRY}/helm-controller:${TAG}"]
}

target "notification-controller" {
  inherits = ["_controller"]
  args     = { BINARY = "notification-controller" }
  tags     = ["${REGISTRY}/notification-controller:${TAG}"]
}

target "image-reflector-controller" {
  inherits = ["_controller"]
  args     = { BINARY = "image-reflector-controller" }
  tags     = ["${REGISTRY}/image-reflector-controller:${TAG}"]
}

target "image-automation-controller" {
  inherits = ["_controller"]
  args     = { BINARY = "image-automation-controller" }
  tags     = ["${REGISTRY}/image-automation-controller:${TAG}"]
}
