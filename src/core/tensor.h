// core/tensor.h — an n-dimensional array with an element type and shared, 64-byte aligned storage.
//
// A Tensor is a handle: copying it shares the storage (like torch.Tensor). clone() copies the bytes.
// Layout is always C-contiguous (row-major); views of a sub-range are made with raw pointers by ops.
#pragma once
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

  void* data() { return storage_.get(); }
  const void* data() const { return storage_.get(); }
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
  // Sets every byte to zero.
  void zero();

 private:
  DType dtype_ = DType::F32;
  Shape shape_;
  int64_t numel_ = 0;
  std::shared_ptr<std::byte> storage_;
};

}  // namespace accent
