// ops/cuda/device.h — the GPU accent runs on: whether there is a usable one, its memory, copies, and the stream
// every cuda op is queued on. Plain C++ (no CUDA headers), present in every build: without the CUDA backend the
// probe says so and the other functions throw.
//
// One device (the first, or CUDA_VISIBLE_DEVICES' first), one stream per process. Ops are asynchronous on that
// stream; download() and synchronize() wait for it. Allocations go through allocate() so a test can count them
// (the training step must reuse memory planned once per shape, never call cudaMalloc inside a step).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/memory.h"

namespace accent::cuda {

struct DeviceStatus {
  bool usable = false;
  std::string description;  // "NVIDIA H200, sm_90, 139.8 GiB" when usable, else why not (no driver, no device …)
};

// Never throws. Caches its answer (the first call initialises the CUDA runtime when there is one).
const DeviceStatus& probe_device();
// Throws accent::Error with probe_device()'s reason when no GPU is usable; `who` names what needed it.
void require_device(const char* who);

// Device memory (cudaMalloc / cudaFree). allocate(0) returns nullptr.
void* allocate(size_t bytes);
void release(void* ptr);
// How many times allocate() reached cudaMalloc since the process started.
uint64_t allocation_count();

// Copies on accent's stream. upload returns once the source may be reused (the copy is staged); download waits
// for everything queued before it.
void upload(void* device_dst, const void* host_src, size_t bytes);
void download(void* host_dst, const void* device_src, size_t bytes);
void copy_device(void* device_dst, const void* device_src, size_t bytes);
void fill_zero(void* device_dst, size_t bytes);
// Waits for every op queued so far; throws naming the first kernel error if one failed.
void synchronize();

// The GPU's memory as a MemoryResource (core/memory.h): tensors created in it hold device pointers; allocation,
// copies and zeroing go through the functions above (allocations are counted). Copies to the host wait.
const MemoryResource& device_memory();

// A device buffer that owns its memory (move-only), for tests and the model's planned storage.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) : ptr_(allocate(bytes)), bytes_(bytes) {}
  ~DeviceBuffer() { release(ptr_); }
  DeviceBuffer(DeviceBuffer&& other) noexcept : ptr_(other.ptr_), bytes_(other.bytes_) {
    other.ptr_ = nullptr;
    other.bytes_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release(ptr_);
      ptr_ = other.ptr_;
      bytes_ = other.bytes_;
      other.ptr_ = nullptr;
      other.bytes_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return ptr_; }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace accent::cuda
