#include "ops/cuda/device.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/error.h"

#if ACCENT_WITH_CUDA
#include <cuda_runtime.h>
#include <dlfcn.h>

#include "ops/cuda/runtime.h"
#endif

namespace accent::cuda {

#if ACCENT_WITH_CUDA

namespace {
std::atomic<uint64_t> g_allocations{0};

DeviceStatus probe_once() {
  DeviceStatus status;
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    // cudaErrorInsufficientDriver / cudaErrorNoDevice: the runtime is linked statically, so what is missing is the
    // driver (libcuda.so.1) or the device itself. Name the driver when it is not there at all.
    cudaGetLastError();
    if (void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
      dlclose(driver);
    } else {
      status.description = "no usable CUDA GPU: no NVIDIA driver on this machine (libcuda.so.1 not found)";
      return status;
    }
    status.description = std::string("no usable CUDA GPU: ") + cudaGetErrorString(err) + " (" +
                         cudaGetErrorName(err) + "; an NVIDIA driver and GPU are needed)";
    cudaGetLastError();  // clear the sticky-free error so later probes start clean
    return status;
  }
  if (count == 0) {
    status.description = "no usable CUDA GPU: the driver sees no device";
    return status;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess || cudaSetDevice(0) != cudaSuccess) {
    status.description = "no usable CUDA GPU: device 0 could not be opened";
    return status;
  }
  if (prop.major < 8) {
    // bf16 matmuls and the kernels' atomics need compute capability 8.0 (Ampere) or newer.
    status.description = std::string("no usable CUDA GPU: ") + prop.name + " has compute capability " +
                         std::to_string(prop.major) + "." + std::to_string(prop.minor) + ", accent needs 8.0 or newer";
    return status;
  }
  char memory[32];
  std::snprintf(memory, sizeof memory, "%.1f GiB",
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  status.usable = true;
  status.description =
      std::string(prop.name) + ", sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ", " + memory;
  return status;
}
}  // namespace

const DeviceStatus& probe_device() {
  static const DeviceStatus status = probe_once();
  return status;
}

void require_device(const char* who) {
  const DeviceStatus& s = probe_device();
  ACCENT_CHECK(s.usable, who, ": ", s.description);
}

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) fail("CUDA error in ", what, ": ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")");
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    require_device("CUDA stream");
    cudaStream_t created = nullptr;
    check(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking), "cudaStreamCreate");
    return created;
  }();
  return s;
}

void* allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  require_device("allocate device memory");
  void* ptr = nullptr;
  const cudaError_t err = cudaMalloc(&ptr, bytes);
  if (err != cudaSuccess) {
    cudaGetLastError();
    fail("CUDA out of memory: cudaMalloc of ", bytes, " bytes failed (", cudaGetErrorString(err), ")");
  }
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return ptr;
}

void release(void* ptr) {
  if (ptr) cudaFree(ptr);  // never throws (destructors call it)
}

uint64_t allocation_count() { return g_allocations.load(std::memory_order_relaxed); }

void upload(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  // Pageable host memory: cudaMemcpyAsync stages the bytes before it returns, so src may be reused at once.
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()), "upload");
}

void download(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream()), "download");
  check(cudaStreamSynchronize(stream()), "download (synchronize)");
}

void copy_device(void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()), "copy_device");
}

void fill_zero(void* dst, size_t bytes) {
  if (bytes == 0) return;
  check(cudaMemsetAsync(dst, 0, bytes, stream()), "fill_zero");
}

void synchronize() { check(cudaStreamSynchronize(stream()), "synchronize"); }

void* workspace(Workspace slot, size_t bytes) {
  struct Slot {
    void* ptr = nullptr;
    size_t bytes = 0;
  };
  static Slot slots[static_cast<int>(Workspace::Count)];
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  Slot& s = slots[static_cast<int>(slot)];
  if (bytes > s.bytes) {
    // Grow-only: after the first step of a shape no allocation happens. cudaFree waits for queued work that may
    // still read the old buffer.
    release(s.ptr);
    s.bytes = bytes + bytes / 4;  // head room so slowly growing shapes do not reallocate every step
    s.ptr = allocate(s.bytes);
  }
  return s.ptr;
}

#else  // built without the CUDA backend

const DeviceStatus& probe_device() {
  static const DeviceStatus status{false, "this accent was built without the CUDA backend (no CUDA toolkit at build "
                                          "time)"};
  return status;
}
void require_device(const char* who) { fail(who, ": ", probe_device().description); }
void* allocate(size_t bytes) {
  if (bytes == 0) return nullptr;
  require_device("allocate device memory");
  return nullptr;
}
void release(void*) {}
uint64_t allocation_count() { return 0; }
void upload(void*, const void*, size_t) { require_device("upload"); }
void download(void*, const void*, size_t) { require_device("download"); }
void copy_device(void*, const void*, size_t) { require_device("copy_device"); }
void fill_zero(void*, size_t) { require_device("fill_zero"); }
void synchronize() { require_device("synchronize"); }

#endif

namespace {

class DeviceMemory final : public MemoryResource {
 public:
  const char* name() const override { return "cuda"; }
  void* allocate(size_t bytes) const override {
    void* ptr = cuda::allocate(bytes);
    fill_zero(ptr, bytes);  // tensors start zero-filled, as in host memory
    return ptr;
  }
  void release(void* ptr) const noexcept override { cuda::release(ptr); }
  void copy_from_host(void* dst, const void* src, size_t bytes) const override { upload(dst, src, bytes); }
  void copy_to_host(void* dst, const void* src, size_t bytes) const override { download(dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) const override { copy_device(dst, src, bytes); }
  void fill_zero(void* dst, size_t bytes) const override { cuda::fill_zero(dst, bytes); }
};

}  // namespace

const MemoryResource& device_memory() {
  static const DeviceMemory* memory = new DeviceMemory;  // never destroyed: tensors may outlive static destruction
  return *memory;
}

}  // namespace accent::cuda
