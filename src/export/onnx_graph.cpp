#include "export/onnx_graph.h"

#include <cstring>

#include "core/dtype.h"
#include "core/error.h"

namespace accent {

namespace {

void set_type(onnx::ValueInfoProto* v, const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
              const std::vector<std::string>& dim_names) {
  v->set_name(name);
  auto* tensor = v->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(elem_type);
  auto* shape = tensor->mutable_shape();
  for (size_t i = 0; i < dims.size(); ++i) {
    auto* d = shape->add_dim();
    if (dims[i] < 0) d->set_dim_param(dim_names.at(i));
    else d->set_dim_value(dims[i]);
  }
}

}  // namespace

void OnnxGraph::add_input(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
                          const std::vector<std::string>& dim_names) {
  set_type(graph_->add_input(), name, elem_type, dims, dim_names);
}

void OnnxGraph::add_output(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
                           const std::vector<std::string>& dim_names) {
  set_type(graph_->add_output(), name, elem_type, dims, dim_names);
}

std::string OnnxGraph::weight(const std::string& name, const Tensor& value) {
  ACCENT_CHECK(value.dtype() == DType::F32, name, ": export expects fp32 parameters, got ", dtype_name(value.dtype()));
  auto* t = graph_->add_initializer();
  t->set_name(name);
  for (int64_t d : value.shape()) t->add_dims(d);
  if (!fp16_weights_) {
    t->set_data_type(onnx::TensorProto::FLOAT);
    t->set_raw_data(value.f32(), value.nbytes());  // little-endian fp32, as ONNX's raw_data specifies
    initializer_bytes_ += value.nbytes();
    return name;
  }
  // IEEE half, rounded to nearest even (core/dtype.h); little-endian uint16 in raw_data.
  std::string half(static_cast<size_t>(value.numel()) * 2, '\0');
  const float* w = value.f32();
  for (int64_t i = 0; i < value.numel(); ++i) {
    const uint16_t h = f32_to_f16(w[i]);
    std::memcpy(&half[static_cast<size_t>(i) * 2], &h, 2);
  }
  t->set_data_type(onnx::TensorProto::FLOAT16);
  t->set_raw_data(half);
  initializer_bytes_ += half.size();
  const std::string as_f32 = name + "/fp32";
  op_into("Cast", {name}, as_f32, {OnnxAttribute::integer("to", onnx::TensorProto::FLOAT)});
  return as_f32;
}

std::string OnnxGraph::weight_transposed(const std::string& name, const Tensor& value) {
  ACCENT_CHECK(value.shape().size() == 2, name, ": expected a matrix (out, in)");
  const int64_t out = value.shape()[0], in = value.shape()[1];
  Tensor t(DType::F32, {in, out});
  const float* w = value.f32();  // (out, in)
  float* wt = t.f32();           // (in, out)
  for (int64_t o = 0; o < out; ++o)
    for (int64_t i = 0; i < in; ++i) wt[i * out + o] = w[o * in + i];
  return weight(name + ".T", t);
}

std::string OnnxGraph::constant_f32(const std::string& stem, float value) {
  auto* t = graph_->add_initializer();
  const std::string name = fresh(stem);
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_float_data(value);
  return name;
}

std::string OnnxGraph::constant_i64(const std::string& stem, const std::vector<int64_t>& values, bool scalar) {
  ACCENT_CHECK(!scalar || values.size() == 1, stem, ": a scalar constant holds one value");
  auto* t = graph_->add_initializer();
  const std::string name = fresh(stem);
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  if (!scalar) t->add_dims(static_cast<int64_t>(values.size()));
  for (int64_t v : values) t->add_int64_data(v);
  return name;
}

std::string OnnxGraph::fresh(const std::string& stem) { return stem + "_" + std::to_string(counter_++); }

std::string OnnxGraph::op(const std::string& op_type, const std::vector<std::string>& inputs, const std::string& stem,
                          const std::vector<OnnxAttribute>& attributes) {
  const std::string output = fresh(stem);
  op_into(op_type, inputs, output, attributes);
  return output;
}

void OnnxGraph::op_into(const std::string& op_type, const std::vector<std::string>& inputs, const std::string& output,
                        const std::vector<OnnxAttribute>& attributes) {
  auto* node = graph_->add_node();
  node->set_op_type(op_type);
  node->set_name(output + "/" + op_type);
  for (const auto& in : inputs) node->add_input(in);
  node->add_output(output);
  for (const auto& a : attributes) {
    auto* attr = node->add_attribute();
    attr->set_name(a.name);
    switch (a.kind) {
      case OnnxAttribute::Kind::Int:
        attr->set_type(onnx::AttributeProto::INT);
        attr->set_i(a.i);
        break;
      case OnnxAttribute::Kind::Float:
        attr->set_type(onnx::AttributeProto::FLOAT);
        attr->set_f(a.f);
        break;
      case OnnxAttribute::Kind::Ints:
        attr->set_type(onnx::AttributeProto::INTS);
        for (int64_t v : a.ints) attr->add_ints(v);
        break;
    }
  }
}

}  // namespace accent
