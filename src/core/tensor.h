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
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"

namespace accent {

using Shape = std::vector<int64_t>;

// Number of elements of a shape ([] = scalar = 1 element).
int64_t shape_numel(const Shape& shape);
// "[2, 768]" — for error messages.
std::string shape_str(const Shape& shape);

namespace detail {
// The bytes of a tensor and their version; shared by every handle of the storage.
struct TensorStorage {
  explicit TensorStorage(size_t nbytes);
  ~TensorStorage();
  TensorStorage(const TensorStorage&) = delete;
  TensorStorage& operator=(const TensorStorage&) = delete;
  std::byte* bytes = nullptr;  // 64-byte aligned, zero-filled at allocation
  std::atomic<uint64_t> version{0};
};
// A fresh value of the process-wide version counter (relaxed atomic; never 0).
uint64_t next_tensor_version();
}  // namespace detail

class Tensor {
 public:
  Tensor() = default;
  // Zero-initialised tensor.
  Tensor(DType dtype, Shape shape);
  static Tensor zeros(Shape shape, DType dtype = DType::F32) { return Tensor(dtype, std::move(shape)); }
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

  // Deep copy.
  Tensor clone() const;
  // Converts between floating types (F32/F16/BF16/F64) and integer types; returns *this when already dtype.
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
