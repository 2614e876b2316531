#!/usr/bin/env bash
# scripts/fresh_machine_check.sh [--keep] — the README's two commands on a fresh Debian 12 machine, for CI.
#
# Builds a minimal Debian 12 root with mmdebstrap (variant apt: essential packages and apt, plus ca-certificates
# to hold this machine's CA trust), puts a clean clone of this repository's HEAD in it (git clone: committed files
# only, no build/, no node_modules/) and, chrooted there as root:
#   1. runs the demo as the README gives it, `bash scripts/demo.sh`, with ACCENT_DEMO_MAX_STEPS (default 10)
#      training steps instead of 3 epochs: the same install (scripts/setup.sh), build, data, train, evaluate,
#      predict;
#   2. runs the test command's setup and build (`scripts/setup.sh --tests`, `scripts/build.sh` on a few targets)
#      and a fast subset of the tests (tokenizer, data, CLI, and one PyTorch oracle; ACCENT_FRESH_TESTS overrides
#      the list).
# So a package missing from either list in scripts/setup.sh fails here, as it would for a new user.
#
# Nothing about this machine is written into the repository. What the root borrows from it, at run time:
#   - the Debian mirror(s), from this machine's apt configuration (`apt-get indextargets`: the bookworm* suites
#     whose Release says Origin: Debian), and its apt proxy / Check-Valid-Until settings if it has any;
#   - /etc/resolv.conf, and the extra CA certificates this machine trusts (/usr/local/share/ca-certificates and
#     any certificate file placed directly in /etc/ssl/certs), installed there with update-ca-certificates;
#     NODE_EXTRA_CA_CERTS points npm at the result;
#   - http(s)_proxy / no_proxy from the environment and npm's registry, if set.
#
# Needs root (mmdebstrap --mode=root, chroot, mounts) and network to the mirror and the npm registry. Installs
# mmdebstrap on this machine if it is absent. The root lives in a temporary directory under ${TMPDIR:-/var/tmp}
# (about 3 GB at the end) and is removed on exit unless --keep. Prints the time of each phase and what each
# install fetched (package count, download size), the numbers the README quotes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
keep=0
[ "${1:-}" = "--keep" ] && keep=1
max_steps=${ACCENT_DEMO_MAX_STEPS:-10}
# Tokenizer, data and CLI tests, chosen so that each package group of the tests is used at least once: GoogleTest
# (all), pandas (data_table), scikit-learn (data_dataset), the npm tokenizer oracle (text_roundtrip), PyTorch
# (io_torch_bin). Building them needs every library layer the CLI needs, already built for the demo.
fast_tests=${ACCENT_FRESH_TESTS:-"text_tokenizer_test text_roundtrip_test cli_tokenize_test data_table_test data_dataset_test io_torch_bin_test"}
suite=bookworm

[ "$(id -u)" -eq 0 ] || { echo "fresh_machine_check.sh: needs root (mmdebstrap --mode=root, chroot)" >&2; exit 2; }
start=$(date +%s)
phase_start=$start
phases=()
# phase NAME: closes the running phase under NAME (seconds since the previous phase ended).
phase() {
  local now; now=$(date +%s)
  phases+=("$(printf '%-38s %5d s' "$1" $((now - phase_start)))")
  phase_start=$now
}

if ! command -v mmdebstrap >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mmdebstrap >/dev/null
fi

# ---- the mirror, from this machine's apt configuration ----------------------------------------------------------
# indextargets lists what apt would download; its Origin/Codename come from the Release files of the last update.
[ -n "$(apt-get indextargets 'Origin: Debian' 2>/dev/null | head -1)" ] || apt-get update -q >/dev/null
# shellcheck disable=SC2016  # $(...) are apt's format fields, not the shell's
mapfile -t mirrors < <(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
    'Identifier: Packages' 'Origin: Debian' 2>/dev/null |
  awk -v s="$suite" '$2 == s || index($2, s "-") == 1 { c[$1 " " $2] = c[$1 " " $2] " " $3 }
                     END { for (k in c) print "deb " k c[k] }' | sort)
[ ${#mirrors[@]} -gt 0 ] || { echo "fresh_machine_check.sh: no Debian $suite source in this machine's apt configuration" >&2; exit 2; }
aptopts=()
for opt in Acquire::http::Proxy Acquire::https::Proxy Acquire::Check-Valid-Until; do
  value=$(apt-config dump "$opt" | sed -n "s/^$opt \"\(.*\)\";\$/\1/p" | head -1)
  [ -n "$value" ] && aptopts+=(--aptopt="$opt \"$value\"")
done
printf 'mirror: %s\n' "${mirrors[@]}"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/accent-fresh.XXXXXX")
root=$work/root
step="building the root"
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    [ ${#phases[@]} -gt 0 ] && printf '%s\n' "${phases[@]}"
    echo "fresh_machine_check.sh: FAILED ($step, exit status $rc)" >&2
  fi
  if [ "$keep" = 1 ]; then echo "kept the root at $root"; else rm -rf --one-file-system "$work"; fi
}
trap cleanup EXIT

# ---- 1. the minimal root ----------------------------------------------------------------------------------------
# force-unsafe-io: dpkg skips its fsync per file (as Debian's container images do); the root is thrown away, and
# unpacking ~1,000 packages otherwise spends minutes waiting on the disk.
mmdebstrap --quiet --mode=root --variant=apt --include=ca-certificates --dpkgopt=force-unsafe-io "${aptopts[@]}" \
  "$suite" "$root" "${mirrors[@]}"
phase "mmdebstrap (minimal Debian 12 root)"

step="copying the clone and the CAs in"
# This machine's network setup, never the repository's.
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mkdir -p "$root/usr/local/share/ca-certificates/host"
find /usr/local/share/ca-certificates -type f -name '*.crt' -exec cp {} "$root/usr/local/share/ca-certificates/host/" \;
find /etc/ssl/certs -maxdepth 1 -type f \( -name '*.pem' -o -name '*.crt' \) ! -name ca-certificates.crt \
  -exec sh -c 'for f; do cp "$f" "$0/host-$(basename "${f%.*}").crt"; done' "$root/usr/local/share/ca-certificates/host" {} +

# A clean clone of HEAD, as a new user would get it.
git clone --quiet --no-local "$repo" "$root/root/accent"
echo "clone: $(git -C "$root/root/accent" log -1 --format='%h %s')"

env_vars=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
          NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "ACCENT_DEMO_MAX_STEPS=$max_steps")
for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
  [ -n "${!v:-}" ] && env_vars+=("$v=${!v}")
done
if command -v npm >/dev/null 2>&1; then env_vars+=("npm_config_registry=$(npm config get registry)"); fi

# in_root LOG COMMAND: runs COMMAND with bash in the root (own mount namespace: /proc, /sys and /dev vanish with
# it), in the clone, its output on the terminal and in $work/LOG.
in_root() {
  local log=$work/$1 cmd=$2
  # shellcheck disable=SC2016  # the inner script expands its own arguments
  unshare --mount --propagation private --fork sh -euc '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    exec chroot "$root" /usr/bin/env -i "$@"' sh "$root" "${env_vars[@]}" \
    bash -euo pipefail -c "cd /root/accent && $cmd" 2>&1 | tee "$log"
}
# fetched LOG: what apt installed in that step ("N packages, X MB download, Y MB on disk"), from apt-get's output.
fetched() {
  local n get disk
  n=$(grep -Eo '[0-9]+ newly installed' "$work/$1" | awk '{s += $1} END {print s + 0}')
  get=$(grep -Eo '^Need to get [0-9.,]+ [kMG]B' "$work/$1" | awk '{print $4, $5}' | paste -sd+ -)
  disk=$(grep -Eo 'After this operation, [0-9.,]+ [kMG]B' "$work/$1" | awk '{print $4, $5}' | paste -sd+ -)
  echo "$n packages, ${get:-0} download, ${disk:-0} on disk"
}

in_root update-ca.log "update-ca-certificates >/dev/null"
phase "copy the clone and this machine's CAs in"

# ---- 2. the demo, as the README gives it ------------------------------------------------------------------------
step="the demo: bash scripts/demo.sh"
in_root demo.log "bash scripts/demo.sh"
phase "demo: bash scripts/demo.sh ($max_steps steps)"
grep -q '"label"' "$work/demo.log" || { echo "fresh_machine_check.sh: the demo printed no prediction" >&2; exit 1; }

# ---- 3. the test command's setup and build, then a fast subset ----------------------------------------------------
step="the tests: scripts/setup.sh --tests"
in_root test-setup.log "bash scripts/setup.sh --tests"
phase "tests: scripts/setup.sh --tests"
step="the tests: scripts/build.sh"
in_root test-build.log "bash scripts/build.sh $fast_tests"
phase "tests: scripts/build.sh (${fast_tests// /, })"
step="the tests: running the subset"
in_root test-run.log "cd build && for t in $fast_tests; do echo \"== \$t\"; ./\$t --gtest_brief=1; done"
phase "tests: run the subset"

echo
echo "== fresh Debian 12 root: what the README's commands installed =="
echo "demo  (scripts/setup.sh):          $(fetched demo.log); npm: $(grep -Eo 'added [0-9]+ packages' "$work/demo.log" | head -1)"
echo "tests (scripts/setup.sh --tests):  +$(fetched test-setup.log); npm: $(grep -Eo 'added [0-9]+ packages' "$work/test-setup.log" | head -1)"
echo "== times =="
printf '%s\n' "${phases[@]}"
printf '%-38s %5d s\n' "total" $(($(date +%s) - start))
echo "fresh_machine_check.sh: OK"
