#!/usr/bin/env bash
# Installs what the test suite needs, only when it is missing. Safe to run again.
set -euo pipefail

need_apt=()
command -v git >/dev/null || need_apt+=(git)
command -v kubectl >/dev/null || need_apt+=(kubectl)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v age >/dev/null || need_apt+=(age)
command -v gpg >/dev/null || need_apt+=(gnupg)
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-deps: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
echo "test-deps: ready"
