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
command -v curl >/dev/null || need_apt+=(curl)
# moto's S3 server for the Bucket tests, from PyPI (Debian has no moto server package).
need_moto=false
python3 -c 'import moto.server' >/dev/null 2>&1 || need_moto=true
if $need_moto; then
  command -v python3 >/dev/null || need_apt+=(python3)
  python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-deps: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if $need_moto; then
  echo "test-deps: installing moto[server]"
  # Debian's python refuses system-wide pip installs (PEP 668) unless told otherwise.
  python3 -m pip install --quiet 'moto[server]' 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages 'moto[server]'
  python3 -c 'import moto.server'
fi

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
echo "test-deps: ready"
