// core/tensor.h — an n-dimensional array with an element type and shared, 64-byte aligned storage.
//
// A Tensor is a handle: copying it shares the storage (like torch.Tensor). clone() copies the bytes.
// Layout is always C-contiguous (row-major); views of a sub-range are made with raw pointers by ops.
//
// Version (like torch.Tensor._version, but stamped rather than incremented): the storage carries a number that
// changes whenever it may have been written. Every NON-const data access (data(), f32(), data_as<T>(), zero())
// stamps it with a fresh value of one process-wide counter, and a new storage starts with a fresh value too, so
// (data pointer, version) never repeats: a cache of something derived from the bytes (e.g. a Linear's bf16 weight,
// nn/bf16_weight_cache.h) is valid exactly while that pair is unchanged. All handles of one storage (copies,
// reshape) share its version. Read through const handles or std::as_const to keep caches valid. Caveat (as for
// PyTorch's data_ptr): a raw pointer taken from a non-const access and written AFTER a cache was refreshed is not
// seen — take the pointer again (which stamps) for each round of writes.
//
// Memory: a tensor's bytes live in one MemoryResource (core/memory.h): host RAM unless it was created in or moved
// to another (an accelerator's; then data() is a pointer into that memory, for ops of that backend only).
// clone(), zero() and reshape() work in any memory; to(dtype) converts on the host only; to_memory()/to_host()
// copy between memories.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/memory.h"

namespace accent {

using Shape = std::vector<int64_t>;

// Number of elements of a shape ([] = scalar = 1 element).
int64_t shape_numel(const Shape& shape);
// "[2, 768]" — for error messages.
std::string shape_str(const Shape& shape);

namespace detail {
// The bytes of a tensor and their version; shared by every handle of the storage.
struct TensorStorage {
  TensorStorage(size_t nbytes, const MemoryResource& memory);
  ~TensorStorage();
  TensorStorage(const TensorStorage&) = delete;
  TensorStorage& operator=(const TensorStorage&) = delete;
  std::byte* bytes = nullptr;  // 64-byte aligned, zero-filled at allocation
  const MemoryResource* memory = nullptr;
  std::atomic<uint64_t> version{0};
};
// A fresh value of the process-wide version counter (relaxed atomic; never 0).
uint64_t next_tensor_version();
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;
  // Zero-initialised tensor, in host memory unless another is given.
  Tensor(DType dtype, Shape shape, const MemoryResource& memory = host_memory());
  static Tensor zeros(Shape shape, DType dtype = DType::F32, const MemoryResource& memory = host_memory()) {
    return Tensor(dtype, std::move(shape), memory);
  }
  // Copies nbytes = numel * dtype_size bytes from `bytes`.
  static Tensor from_bytes(DType dtype, Shape shape, const void* bytes);
  static Tensor from_vector(Shape shape, const std::vector<float>& values);

  bool defined() const { return storage_ != nullptr || numel_ == 0; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t dim(size_t i) const { return shape_.at(i); }
  size_t ndim() const { return shape_.size(); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtype_size(dtype_); }

  // Non-const access stamps a new version (the caller may write); const access does not.
  void* data() {
    if (!storage_) return nullptr;
    storage_->version.store(detail::next_tensor_version(), std::memory_order_relaxed);
    return storage_->bytes;
  }
  const void* data() const { return storage_ ? storage_->bytes : nullptr; }
  // Typed access; checks that the element type matches.
  float* f32();
  const float* f32() const;
  template <typename T>
  T* data_as() { return static_cast<T*>(data()); }
  template <typename T>
  const T* data_as() const { return static_cast<const T*>(data()); }

  // The memory the bytes live in (host for an undefined tensor).
  const MemoryResource& memory() const { return storage_ ? *storage_->memory : host_memory(); }
  bool on_host() const { return memory().is_host(); }
  // A copy in `memory`, or *this when the bytes are there already (like torch's .to(device)).
  Tensor to_memory(const MemoryResource& memory) const;
  Tensor to_host() const { return to_memory(host_memory()); }

  // Deep copy (in the same memory).
  Tensor clone() const;
  // Converts between floating types (F32/F16/BF16/F64) and integer types; returns *this when already dtype.
  // A conversion needs host bytes.
  Tensor to(DType dtype) const;
  // Same storage, new shape with the same numel.
  Tensor reshape(Shape shape) const;
  // Sets every byte to zero (a write: stamps a new version).
  void zero();
  // The storage's current version (0 for an undefined tensor); see the top of this file.
  uint64_t version() const { return storage_ ? storage_->version.load(std::memory_order_relaxed) : 0; }

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<detail::TensorStorage> storage_;
};

}  // namespace accent
