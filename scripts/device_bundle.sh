#!/usr/bin/env bash
# Packs what the GPU machine's check (scripts/device_check.sh) needs into .device/bundle.tar.xz: the accent CLI, the
# CUDA op and model tests and the CUDA benchmarks from a CUDA build here, and the shared libraries they use that a CUDA image lacks (oneDNN,
# utf8proc, OpenMP). The GPU machine has no Debian -dev packages and no network, so it runs these binaries; it
# provides the NVIDIA driver and cuBLASLt (accent opens it with dlopen). .device/ is git-ignored and travels with
# the device tool's `carry`. Usage: scripts/device_bundle.sh [BUILD_DIR]   (default build/, configured with CUDA)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
ls "$BUILD"/CMakeFiles/*/CMakeCUDACompiler.cmake >/dev/null 2>&1 ||
  { echo "device_bundle: $BUILD is not a CUDA build (no nvcc at configure time)" >&2; exit 1; }
cmake --build "$BUILD" --target accent ops_cuda_test train_cuda_models_test cuda_ops_bench cuda_step_bench epoch_bench
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/bin" "$STAGE/lib" .device
cp "$BUILD/accent" "$BUILD/ops_cuda_test" "$BUILD/train_cuda_models_test" "$BUILD/cuda_ops_bench" "$BUILD/cuda_step_bench" \
  "$BUILD/epoch_bench" \
  "$STAGE/bin/"
strip --strip-debug "$STAGE"/bin/*
# Libraries outside the C/C++ runtime (which the GPU machine's newer distribution provides, backward compatible).
ldd "$STAGE/bin/accent" "$STAGE/bin/ops_cuda_test" | awk '/=> \// {print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libstdc++.so*|libgcc_s.so*|ld-linux*|libpthread.so*|libdl.so*|librt.so*) ;;
    *) cp -L "$lib" "$STAGE/lib/" ;;
  esac
done
tar -C "$STAGE" -cJf .device/bundle.tar.xz bin lib
echo "device_bundle: .device/bundle.tar.xz ($(du -h .device/bundle.tar.xz | cut -f1)): $(ls "$STAGE/bin" "$STAGE/lib" | tr '\n' ' ')"
