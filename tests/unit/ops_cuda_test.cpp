// The CUDA backend (ops/cuda) against the `ref` oracle, op by op, on device buffers: the same contracts and
// tolerances as ops_cpu_vs_ref_test (fp32 2e-5; bf16 matmuls against ref's bf16 path, which rounds the operands
// the same way, so only the summation order differs). Dropout masks, data movement and embedding gradients must be
// bit-identical to ref. Without a usable GPU every GPU test reports itself skipped, and the no-GPU test checks
// that the cuda backend fails with a clear message instead.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "ops/activation.h"
#include "ops/add_layernorm.h"
#include "ops/attention_softmax.h"
#include "ops/cuda/device.h"
#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/embedding_layernorm.h"
#include "ops/layernorm.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/multi_tensor.h"
#include "ops/precision.h"
#include "ops/tensor_ops.h"
#include "ops_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

const OpContext kRef{Backend::Ref, Precision::F32};
const OpContext kRefBf16{Backend::Ref, Precision::BF16};
const OpContext kCuda{Backend::Cuda, Precision::F32};
const OpContext kCudaBf16{Backend::Cuda, Precision::BF16};
constexpr double kTolF32 = 2e-5;
constexpr float kSentinel = 12345.678f;
constexpr int64_t kPad = 16;

std::vector<float> zeros(int64_t n) { return std::vector<float>(static_cast<size_t>(n), 0.0f); }
std::vector<float> filled(int64_t n, float v) { return std::vector<float>(static_cast<size_t>(n), v); }

bool gpu_usable() { return cuda::probe_device().usable; }
#define REQUIRE_GPU() \
  if (!gpu_usable()) GTEST_SKIP() << "no GPU: " << cuda::probe_device().description

// A device copy of a host vector, with kPad sentinel elements after it to catch writes past the end.
template <typename T>
struct Dev {
  int64_t n;
  cuda::DeviceBuffer buf;
  explicit Dev(const std::vector<T>& host)
      : n(static_cast<int64_t>(host.size())), buf((host.size() + kPad) * sizeof(T)) {
    std::vector<T> padded(host);
    padded.resize(host.size() + kPad, sentinel());
    cuda::upload(buf.get(), padded.data(), padded.size() * sizeof(T));
  }
  static T sentinel() {
    if constexpr (std::is_same_v<T, float>) return kSentinel;
    else return T(0x5a);  // integers: ids, labels, masks
  }
  T* ptr() const { return buf.as<T>(); }
  // Downloads the n elements, asserting the sentinels are intact.
  std::vector<T> get() const {
    std::vector<T> host(static_cast<size_t>(n + kPad));
    cuda::download(host.data(), buf.get(), host.size() * sizeof(T));
    for (int64_t i = n; i < n + kPad; ++i)
      if (!(host[i] == sentinel())) ADD_FAILURE() << "device op wrote past the end of a buffer";
    host.resize(static_cast<size_t>(n));
    return host;
  }
};

void expect_close(const std::vector<float>& got, const std::vector<float>& ref, double tol, const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(std::isfinite(got[i])) << what << ": non-finite at " << i;
  EXPECT_LE(relative_error(got, ref), tol) << what;
}
void expect_equal(const std::vector<float>& got, const std::vector<float>& ref, const std::string& what) {
  ASSERT_EQ(got.size(), ref.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], ref[i]) << what << " at " << i;
}

}  // namespace

TEST(OpsCuda, WithoutGpuTheCudaBackendSaysWhy) {
  if (gpu_usable()) GTEST_SKIP() << "a GPU is present: " << cuda::probe_device().description;
  EXPECT_FALSE(cuda::probe_device().description.empty());
  std::vector<float> x(8, 1.0f), y(8);
  try {
    add(kCuda, x.data(), x.data(), y.data(), 8);
    FAIL() << "the cuda backend ran without a GPU";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_TRUE(msg.find("CUDA") != std::string::npos || msg.find("GPU") != std::string::npos) << msg;
  }
}

TEST(OpsCuda, GemmAllTransposesBiasAccumulateBatched) {
  REQUIRE_GPU();
  struct Case { int64_t batch, M, N, K; };
  for (Case c : {Case{1, 37, 29, 53}, Case{1, 256, 96, 64}, Case{6, 17, 17, 8}, Case{4, 33, 16, 33},
                 Case{1, 512, 768, 256}, Case{1, 5, 7, 0}})
    for (int bf16 = 0; bf16 < 2; ++bf16)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (int acc = 0; acc < 2; ++acc)
            for (int with_bias = 0; with_bias < 2; ++with_bias) {
              if (with_bias && c.batch > 1) continue;  // bias is for Linear (batch 1), as the cpu path
              GemmShape s{c.batch, c.M, c.N, c.K, ta == 1, tb == 1};
              auto A = random_vector(c.batch * c.M * c.K, 1), B = random_vector(c.batch * c.K * c.N, 2);
              auto bias = random_vector(c.N, 3);
              auto C0 = random_vector(c.batch * c.M * c.N, 4);
              Dev<float> dA(A), dB(B), dbias(bias), dC(C0);
              auto ref = C0;
              const OpContext& ctx = bf16 ? kCudaBf16 : kCuda;
              gemm(ctx, s, dA.ptr(), dB.ptr(), with_bias ? dbias.ptr() : nullptr, dC.ptr(), acc == 1);
              gemm(bf16 ? kRefBf16 : kRef, s, A.data(), B.data(), with_bias ? bias.data() : nullptr, ref.data(),
                   acc == 1);
              expect_close(dC.get(), ref, bf16 ? 1e-4 : kTolF32,
                           "gemm M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" +
                               std::to_string(c.K) + " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) +
                               " acc=" + std::to_string(acc) + " bias=" + std::to_string(with_bias) +
                               (bf16 ? " bf16" : " fp32"));
            }
}

TEST(OpsCuda, GemmBf16WeightsAndLinearProducts) {
  REQUIRE_GPU();
  const int64_t rows = 70, in = 48, out = 40;
  auto x = random_vector(rows * in, 5), W = random_vector(out * in, 6), dy = random_vector(rows * out, 7);
  auto b = random_vector(out, 8);
  std::vector<uint16_t> W16(out * in);
  convert_f32_to_bf16(W.data(), W16.data(), out * in);
  Dev<float> dx_in(x), dW(W), dbias(b), ddy(dy), dy_out(zeros(rows * out));
  Dev<uint16_t> dW16(W16);
  GemmShape s{1, rows, out, in, false, true};
  gemm_bf16_weights(kCudaBf16, s, dx_in.ptr(), dW16.ptr(), dbias.ptr(), dy_out.ptr(), false);
  std::vector<float> ref(rows * out);
  gemm_bf16_weights(kRefBf16, s, x.data(), W16.data(), b.data(), ref.data(), false);
  expect_close(dy_out.get(), ref, 1e-4, "gemm_bf16_weights");

  Dev<float> ddx(zeros(rows * in));
  linear_backward_input(kCuda, ddy.ptr(), dW.ptr(), ddx.ptr(), rows, in, out);
  std::vector<float> dx_r(rows * in);
  linear_backward_input(kRef, dy.data(), W.data(), dx_r.data(), rows, in, out);
  expect_close(ddx.get(), dx_r, kTolF32, "linear dx");
  std::vector<float> dW_r(out * in, 0.5f), db_r(out, 0.25f);
  Dev<float> ddW(dW_r), ddb(db_r);
  linear_backward_weight(kCuda, dx_in.ptr(), ddy.ptr(), ddW.ptr(), ddb.ptr(), rows, in, out);
  linear_backward_weight(kRef, x.data(), dy.data(), dW_r.data(), db_r.data(), rows, in, out);
  expect_close(ddW.get(), dW_r, kTolF32, "linear dW");
  expect_close(ddb.get(), db_r, kTolF32, "linear db");
}

TEST(OpsCuda, LayerNormForwardBackward) {
  REQUIRE_GPU();
  for (int64_t C : {200, 768, 1024}) {
    const int64_t rows = 33;
    auto x = random_vector(rows * C, 8, 3.0f), w = random_vector(C, 9), b = random_vector(C, 10);
    auto dy = random_vector(rows * C, 11);
    std::vector<float> y(rows * C), m(rows), s(rows);
    layernorm_forward(kRef, x.data(), w.data(), b.data(), y.data(), m.data(), s.data(), rows, C, 1e-12f);
    Dev<float> dx(x), dw(w), db(b), dy_out(zeros(rows * C)), dm(zeros(rows)),
        ds(zeros(rows));
    layernorm_forward(kCuda, dx.ptr(), dw.ptr(), db.ptr(), dy_out.ptr(), dm.ptr(), ds.ptr(), rows, C, 1e-12f);
    const std::string what = " C=" + std::to_string(C);
    expect_close(dy_out.get(), y, kTolF32, "layernorm y" + what);
    expect_close(ds.get(), s, kTolF32, "layernorm rstd" + what);
    std::vector<float> gx(rows * C), gw(C, 1.0f), gb(C, 0.0f);
    layernorm_backward(kRef, dy.data(), x.data(), w.data(), m.data(), s.data(), gx.data(), gw.data(), gb.data(), rows,
                       C);
    Dev<float> ddy(dy), dgw(filled(C, 1.0f)), dgb(filled(C, 0.0f));
    // dx aliasing dy, as the contract allows.
    layernorm_backward(kCuda, ddy.ptr(), dx.ptr(), dw.ptr(), dm.ptr(), ds.ptr(), ddy.ptr(), dgw.ptr(), dgb.ptr(), rows,
                       C);
    expect_close(ddy.get(), gx, kTolF32, "layernorm dx (in place)" + what);
    expect_close(dgw.get(), gw, kTolF32, "layernorm dw" + what);
    expect_close(dgb.get(), gb, kTolF32, "layernorm db" + what);
  }
}

TEST(OpsCuda, AddLayerNormFusedWithDropout) {
  REQUIRE_GPU();
  const int64_t rows = 37, C = 150, n = rows * C;
  auto branch = random_vector(n, 42, 2.0f), residual = random_vector(n, 43), w = random_vector(C, 44);
  auto b = random_vector(C, 45), dy = random_vector(n, 46);
  for (float prob : {0.0f, 0.2f}) {
    Rng rng(5, 77);
    const DropoutDraw draw = dropout_draw(prob, &rng, n);
    const std::string what = " p=" + std::to_string(prob);
    std::vector<float> sum(n), y(n), m(rows), s(rows);
    add_layernorm_forward(kRef, branch.data(), residual.data(), draw, w.data(), b.data(), sum.data(), y.data(),
                          m.data(), s.data(), rows, C, 1e-12f);
    Dev<float> dbr(branch), dres(residual), dw(w), db(b), dsum(zeros(n)), dyo(zeros(n)),
        dm(zeros(rows)), ds(zeros(rows));
    add_layernorm_forward(kCuda, dbr.ptr(), dres.ptr(), draw, dw.ptr(), db.ptr(), dsum.ptr(), dyo.ptr(), dm.ptr(),
                          ds.ptr(), rows, C, 1e-12f);
    expect_close(dsum.get(), sum, 1e-6, "add_layernorm sum (elementwise, same mask)" + what);
    expect_close(dyo.get(), y, kTolF32, "add_layernorm y" + what);
    std::vector<float> gsum(n), gbranch(n), gw(C, 0.0f), gb(C, 0.0f);
    add_layernorm_backward(kRef, dy.data(), sum.data(), w.data(), m.data(), s.data(), draw, gsum.data(),
                           gbranch.data(), gw.data(), gb.data(), rows, C);
    Dev<float> ddy(dy), dgsum(zeros(n)), dgw(zeros(C)), dgb(zeros(C));
    // dbranch aliasing the saved sum, as the contract allows.
    add_layernorm_backward(kCuda, ddy.ptr(), dsum.ptr(), dw.ptr(), dm.ptr(), ds.ptr(), draw, dgsum.ptr(), dsum.ptr(),
                           dgw.ptr(), dgb.ptr(), rows, C);
    expect_close(dgsum.get(), gsum, kTolF32, "add_layernorm dsum" + what);
    expect_close(dsum.get(), gbranch, kTolF32, "add_layernorm dbranch (aliasing sum)" + what);
    expect_close(dgw.get(), gw, kTolF32, "add_layernorm dw" + what);
    expect_close(dgb.get(), gb, kTolF32, "add_layernorm db" + what);
  }
}

TEST(OpsCuda, EmbeddingLayerNormAndEmbeddingGradients) {
  REQUIRE_GPU();
  const int64_t rows = 300, C = 96, V = 50, n = rows * C;
  std::vector<int32_t> word(rows), type(rows), pos(rows);
  Rng rng(9);
  for (int64_t r = 0; r < rows; ++r) {
    word[r] = static_cast<int32_t>(rng.below(V));  // many repeats: the scatter-add collides
    type[r] = static_cast<int32_t>(r % 2);
    pos[r] = static_cast<int32_t>(r % 40);
  }
  auto tw = random_vector(V * C, 1), tt = random_vector(2 * C, 2), tp = random_vector(40 * C, 3);
  auto w = random_vector(C, 4), b = random_vector(C, 5), dy = random_vector(n, 6);
  Rng drng(3, 10);
  const DropoutDraw draw = dropout_draw(0.1f, &drng, n);
  EmbeddingLookup host_l[3] = {{word.data(), tw.data(), V, "word"}, {type.data(), tt.data(), 2, "type"},
                               {pos.data(), tp.data(), 40, "position"}};
  std::vector<float> sum(n), y(n), m(rows), s(rows);
  embedding_layernorm_forward(kRef, host_l, 3, w.data(), b.data(), draw, sum.data(), y.data(), m.data(), s.data(),
                              rows, C, 1e-12f);
  Dev<int32_t> dword(word), dtype(type), dpos(pos);
  Dev<float> dtw(tw), dtt(tt), dtp(tp), dw(w), db(b), dsum(zeros(n)), dyo(zeros(n)),
      dm(zeros(rows)), ds(zeros(rows));
  EmbeddingLookup dev_l[3] = {{dword.ptr(), dtw.ptr(), V, "word"}, {dtype.ptr(), dtt.ptr(), 2, "type"},
                              {dpos.ptr(), dtp.ptr(), 40, "position"}};
  embedding_layernorm_forward(kCuda, dev_l, 3, dw.ptr(), db.ptr(), draw, dsum.ptr(), dyo.ptr(), dm.ptr(), ds.ptr(),
                              rows, C, 1e-12f);
  expect_equal(dsum.get(), sum, "embedding sum");
  expect_close(dyo.get(), y, kTolF32, "embedding_layernorm y");
  std::vector<float> gsum(n), gw(C, 0.0f), gb(C, 0.0f);
  embedding_layernorm_backward(kRef, dy.data(), sum.data(), w.data(), m.data(), s.data(), draw, gsum.data(),
                               gw.data(), gb.data(), rows, C);
  Dev<float> ddy(dy), dgw(zeros(C)), dgb(zeros(C));
  embedding_layernorm_backward(kCuda, ddy.ptr(), dsum.ptr(), dw.ptr(), dm.ptr(), ds.ptr(), draw, ddy.ptr(),
                               dgw.ptr(), dgb.ptr(), rows, C);
  expect_close(ddy.get(), gsum, kTolF32, "embedding_layernorm dsum");
  expect_close(dgw.get(), gw, kTolF32, "embedding_layernorm dw");
  expect_close(dgb.get(), gb, kTolF32, "embedding_layernorm db");

  // Scatter-add into the word table with padding_idx 3: the same summation order as ref, so bit-identical.
  auto table_grad = random_vector(V * C, 7);
  Dev<float> dtg(table_grad), dg(gsum);
  embedding_backward(kRef, word.data(), gsum.data(), table_grad.data(), rows, V, C, 3);
  embedding_backward(kCuda, dword.ptr(), dg.ptr(), dtg.ptr(), rows, V, C, 3);
  expect_equal(dtg.get(), table_grad, "embedding backward");

  // Plain lookup with accumulate, and an out-of-range id named with its position.
  Dev<float> dlook(filled(n, 1.0f));
  std::vector<float> look(n, 1.0f);
  embedding_forward(kRef, word.data(), tw.data(), look.data(), rows, V, C, true);
  embedding_forward(kCuda, dword.ptr(), dtw.ptr(), dlook.ptr(), rows, V, C, true);
  expect_equal(dlook.get(), look, "embedding forward (accumulate)");
  auto bad = word;
  bad[123] = static_cast<int32_t>(V + 5);
  Dev<int32_t> dbad(bad);
  try {
    embedding_forward(kCuda, dbad.ptr(), dtw.ptr(), dlook.ptr(), rows, V, C, false, "word_embeddings");
    FAIL() << "out-of-range id accepted";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("index 55 at position 123"), std::string::npos) << msg;
    EXPECT_NE(msg.find("word_embeddings"), std::string::npos) << msg;
  }
}

TEST(OpsCuda, AttentionSoftmaxDropoutFused) {
  REQUIRE_GPU();
  for (AttentionDims d : {AttentionDims{2, 3, 17, 17}, AttentionDims{2, 12, 128, 128}, AttentionDims{2, 2, 5, 600}}) {
    const int64_t n = d.B * d.NH * d.Tq * d.Tk;
    auto s = random_vector(n, 40, 4.0f), dq = random_vector(n, 41);
    std::vector<int32_t> mask(d.B * d.Tk, 1);
    for (int64_t j = d.Tk / 2; j < d.Tk; ++j) mask[d.Tk + j] = 0;  // batch 1 padded after half its keys
    std::vector<float> mask_add(d.B * d.Tk);
    attention_additive_mask(mask.data(), mask_add.data(), d.B, d.Tk);
    for (float prob : {0.0f, 0.1f, 1.0f}) {
      Rng rng(31, 1000);
      const DropoutDraw draw = dropout_draw(prob, &rng, n);
      const std::string what = " Tk=" + std::to_string(d.Tk) + " p=" + std::to_string(prob);
      std::vector<float> p(n), q(n, 0.0f);
      attention_softmax_dropout_forward(kRef, s.data(), mask_add.data(), p.data(), q.data(), d, 8.0f, draw);
      Dev<float> ds_(s), dmask(mask_add), dp(zeros(n)), dq_(filled(n, 0.0f));
      attention_softmax_dropout_forward(kCuda, ds_.ptr(), dmask.ptr(), dp.ptr(), dq_.ptr(), d, 8.0f, draw);
      const auto p_gpu = dp.get();
      expect_close(p_gpu, p, kTolF32, "softmax P" + what);
      for (int64_t r = 0; r < d.NH * d.Tq; ++r)  // padded keys: probability exactly 0
        for (int64_t j = d.Tk / 2; j < d.Tk; ++j) ASSERT_EQ(p_gpu[(d.NH * d.Tq + r) * d.Tk + j], 0.0f) << what;
      if (draw.active()) {  // the same mask bits as the cpu/ref draw
        const auto q_gpu = dq_.get();
        expect_close(q_gpu, q, kTolF32, "softmax P'" + what);
      }
      std::vector<float> g(n);
      attention_softmax_dropout_backward(kRef, p.data(), dq.data(), g.data(), d, 8.0f, draw);
      Dev<float> dpr(p), ddq(dq), dagain(zeros(n));
      // dscores aliasing the incoming gradient, P' re-materialised.
      attention_softmax_dropout_backward(kCuda, dpr.ptr(), ddq.ptr(), ddq.ptr(), d, 8.0f, draw, dagain.ptr());
      expect_close(ddq.get(), g, kTolF32, "softmax backward" + what);
      if (draw.active()) expect_close(dagain.get(), q, kTolF32, "re-materialised P'" + what);
    }
  }
}

TEST(OpsCuda, ActivationsDropoutAndDataMovement) {
  REQUIRE_GPU();
  const int64_t n = 10007;
  auto x = random_vector(n, 50, 3.0f), dy = random_vector(n, 51);
  Dev<float> dx(x), ddy(dy);
  for (Activation act : {Activation::Gelu, Activation::GeluTanh, Activation::QuickGelu, Activation::Relu,
                         Activation::Silu, Activation::Tanh}) {
    const std::string what = std::string(" ") + activation_name(act);
    std::vector<float> y(n), g(n), d(n);
    activation_forward(kRef, act, x.data(), y.data(), n);
    activation_backward(kRef, act, x.data(), dy.data(), g.data(), n);
    Dev<float> dyo(zeros(n)), dg(zeros(n)), dd(zeros(n));
    activation_forward(kCuda, act, dx.ptr(), dyo.ptr(), n);
    activation_backward(kCuda, act, dx.ptr(), ddy.ptr(), dg.ptr(), n);
    expect_close(dyo.get(), y, 1e-6, "activation forward" + what);
    expect_close(dg.get(), g, 1e-6, "activation backward" + what);
    activation_forward_with_derivative(kCuda, act, dx.ptr(), dyo.ptr(), dd.ptr(), n);
    multiply_inplace(kCuda, ddy.ptr(), dd.ptr(), n);
    expect_close(dd.get(), g, 1e-6, "activation with derivative" + what);
  }
  // Dropout: the GPU draws exactly the cpu/ref mask (same counter-based generator).
  for (float prob : {0.1f, 0.5f, 1.0f}) {
    std::vector<float> y(n);
    std::vector<uint8_t> mask(n);
    dropout_forward(kRef, x.data(), y.data(), mask.data(), n, prob, 77, 5000);
    Dev<float> dyo(zeros(n)), dback(zeros(n));
    Dev<uint8_t> dmask(std::vector<uint8_t>(static_cast<size_t>(n), 0));
    dropout_forward(kCuda, dx.ptr(), dyo.ptr(), dmask.ptr(), n, prob, 77, 5000);
    expect_equal(dyo.get(), y, "dropout forward p=" + std::to_string(prob));
    EXPECT_EQ(dmask.get(), mask) << "dropout mask p=" << prob;
    std::vector<float> back(n);
    dropout_backward(kRef, dy.data(), mask.data(), back.data(), n, prob);
    dropout_backward(kCuda, ddy.ptr(), dmask.ptr(), dback.ptr(), n, prob);
    expect_equal(dback.get(), back, "dropout backward (stored mask)");
    const DropoutDraw draw{prob, 77, 5000};
    dropout_backward(kCuda, ddy.ptr(), draw, dback.ptr(), n);
    expect_equal(dback.get(), back, "dropout backward (regenerated mask)");
  }
  // Heads, rows, sums: exact.
  const int64_t B = 3, T = 7, NH = 4, D = 5, C = NH * D;
  auto h = random_vector(B * T * C, 52);
  std::vector<float> split(B * T * C), merged(B * T * C), row(B * C), scattered(B * T * C), sum(B * T * C);
  split_heads(kRef, h.data(), split.data(), B, T, NH, D);
  merge_heads(kRef, split.data(), merged.data(), B, T, NH, D);
  gather_rows(kRef, h.data(), row.data(), B, T, C, 2);
  scatter_rows(kRef, row.data(), scattered.data(), B, T, C, 2);
  add(kRef, h.data(), split.data(), sum.data(), B * T * C);
  Dev<float> dh(h), dsplit(zeros(B * T * C)), dmerged(zeros(B * T * C)),
      drow(zeros(B * C)), dscat(filled(B * T * C, 9.0f)), dsum(zeros(B * T * C));
  split_heads(kCuda, dh.ptr(), dsplit.ptr(), B, T, NH, D);
  merge_heads(kCuda, dsplit.ptr(), dmerged.ptr(), B, T, NH, D);
  gather_rows(kCuda, dh.ptr(), drow.ptr(), B, T, C, 2);
  scatter_rows(kCuda, drow.ptr(), dscat.ptr(), B, T, C, 2);
  add(kCuda, dh.ptr(), dsplit.ptr(), dsum.ptr(), B * T * C);
  expect_equal(dsplit.get(), split, "split_heads");
  expect_equal(dmerged.get(), merged, "merge_heads");
  expect_equal(drow.get(), row, "gather_rows");
  expect_equal(dscat.get(), scattered, "scatter_rows");
  expect_equal(dsum.get(), sum, "add");
  add_inplace(kCuda, dh.ptr(), dsum.ptr(), B * T * C);
  add_inplace(kRef, h.data(), sum.data(), B * T * C);
  expect_equal(dsum.get(), sum, "add_inplace");
  scale_inplace(kCuda, 0.37f, dsum.ptr(), B * T * C);
  scale_inplace(kRef, 0.37f, sum.data(), B * T * C);
  expect_equal(dsum.get(), sum, "scale_inplace");
  // A fused q|k|v projection (B, T, 3H) ↔ (3, B, NH, T, D), and the causal fill of (B·NH, T, T) scores.
  auto qkv = random_vector(3 * B * T * C, 53);
  std::vector<float> qkv_heads(qkv.size()), qkv_back(qkv.size());
  split_qkv_heads(kRef, qkv.data(), qkv_heads.data(), B, T, NH, D);
  merge_qkv_heads(kRef, qkv_heads.data(), qkv_back.data(), B, T, NH, D);
  EXPECT_EQ(qkv_back, qkv) << "merge_qkv_heads inverts split_qkv_heads";
  Dev<float> dqkv(qkv), dqkv_heads(zeros(3 * B * T * C)), dqkv_back(zeros(3 * B * T * C));
  split_qkv_heads(kCuda, dqkv.ptr(), dqkv_heads.ptr(), B, T, NH, D);
  merge_qkv_heads(kCuda, dqkv_heads.ptr(), dqkv_back.ptr(), B, T, NH, D);
  expect_equal(dqkv_heads.get(), qkv_heads, "split_qkv_heads");
  expect_equal(dqkv_back.get(), qkv, "merge_qkv_heads");
  auto scores = random_vector(B * NH * T * T, 54);
  Dev<float> dscores(scores);
  fill_causal(kRef, scores.data(), B * NH, T);
  fill_causal(kCuda, dscores.ptr(), B * NH, T);
  expect_equal(dscores.get(), scores, "fill_causal");
}

TEST(OpsCuda, RepeatedShapesAllocateNothing) {
  // The grow-only workspaces and cached matmul plans: a second round of the same ops calls cudaMalloc 0 times.
  REQUIRE_GPU();
  const int64_t rows = 256, in = 768, out = 3072;
  Dev<float> x(random_vector(rows * in, 1)), W(random_vector(out * in, 2)), b(random_vector(out, 3)),
      y(zeros(rows * out)), w(random_vector(out, 4)), m(zeros(rows)),
      s(zeros(rows)), dW(zeros(out * in)), db(zeros(out));
  auto round = [&] {
    linear_forward(kCudaBf16, x.ptr(), W.ptr(), b.ptr(), y.ptr(), rows, in, out);
    layernorm_forward(kCuda, y.ptr(), w.ptr(), b.ptr(), y.ptr(), m.ptr(), s.ptr(), rows, out, 1e-12f);
    linear_backward_weight(kCudaBf16, x.ptr(), y.ptr(), dW.ptr(), db.ptr(), rows, in, out);
    layernorm_backward(kCuda, y.ptr(), y.ptr(), w.ptr(), m.ptr(), s.ptr(), y.ptr(), w.ptr(), db.ptr(), rows, out);
    cuda::synchronize();
  };
  round();
  const uint64_t before = cuda::allocation_count();
  for (int i = 0; i < 3; ++i) round();
  EXPECT_EQ(cuda::allocation_count(), before) << "cudaMalloc inside repeated steps";
}

TEST(OpsCuda, MultiTensorAdamWNormAndClip) {
  // One launch over many tensors of awkward sizes (empty, one chunk, a chunk + 1, several chunks) against ref.
  REQUIRE_GPU();
  const std::vector<int64_t> sizes{5, 16384, 16385, 100000, 0, 3};
  std::vector<std::vector<float>> p, g, m, v;
  std::vector<Dev<float>> dp, dg, dm, dv;
  for (size_t t = 0; t < sizes.size(); ++t) {
    p.push_back(random_vector(sizes[t], 10 + t));
    g.push_back(random_vector(sizes[t], 20 + t, 0.1f));
    m.push_back(random_vector(sizes[t], 30 + t, 0.01f));
    auto sq = random_vector(sizes[t], 40 + t, 0.01f);
    for (auto& x : sq) x = x * x;  // second moments are non-negative
    v.push_back(sq);
  }
  for (size_t t = 0; t < sizes.size(); ++t) {
    dp.emplace_back(p[t]);
    dg.emplace_back(g[t]);
    dm.emplace_back(m[t]);
    dv.emplace_back(v[t]);
  }
  AdamWScalars s;
  s.neg_step_size = -1e-3f / 0.1f;
  s.bias_correction2_sqrt = std::sqrt(0.001f);
  std::vector<AdamWTensor> host, dev;
  for (size_t t = 0; t < sizes.size(); ++t) {
    const float decay = t % 2 ? 1.0f : 1.0f - 1e-3f * 0.01f;
    host.push_back({p[t].data(), g[t].data(), m[t].data(), v[t].data(), sizes[t], decay});
    dev.push_back({dp[t].ptr(), dg[t].ptr(), dm[t].ptr(), dv[t].ptr(), sizes[t], decay});
  }
  for (int step = 0; step < 3; ++step) {  // repeated: the descriptor upload is skipped when unchanged
    adamw_update(kRef, host.data(), static_cast<int>(host.size()), s);
    adamw_update(kCuda, dev.data(), static_cast<int>(dev.size()), s);
  }
  for (size_t t = 0; t < sizes.size(); ++t) {
    const std::string what = " tensor " + std::to_string(t);
    expect_close(dp[t].get(), p[t], 1e-6, "adamw param" + what);
    expect_close(dm[t].get(), m[t], 1e-6, "adamw exp_avg" + what);
    expect_close(dv[t].get(), v[t], 1e-6, "adamw exp_avg_sq" + what);
  }
  std::vector<GradTensor> hg, dgl;
  for (size_t t = 0; t < sizes.size(); ++t) {
    hg.push_back({g[t].data(), sizes[t]});
    dgl.push_back({dg[t].ptr(), sizes[t]});
  }
  const double norm_ref = global_grad_norm(kRef, hg.data(), static_cast<int>(hg.size()));
  const double norm_gpu = global_grad_norm(kCuda, dgl.data(), static_cast<int>(dgl.size()));
  EXPECT_NEAR(norm_gpu, norm_ref, 1e-6 * norm_ref);
  scale_tensors(kRef, hg.data(), static_cast<int>(hg.size()), 0.37f);
  scale_tensors(kCuda, dgl.data(), static_cast<int>(dgl.size()), 0.37f);
  for (size_t t = 0; t < sizes.size(); ++t) expect_equal(dg[t].get(), g[t], "scaled gradient " + std::to_string(t));
  // The trainer's fused step: the clip factor applied as the update reads g, and g zeroed in the same pass.
  s.grad_scale = 0.37f;
  s.zero_grad = true;
  adamw_update(kRef, host.data(), static_cast<int>(host.size()), s);
  adamw_update(kCuda, dev.data(), static_cast<int>(dev.size()), s);
  for (size_t t = 0; t < sizes.size(); ++t) {
    const std::string what = " tensor " + std::to_string(t) + " (grad_scale, zero_grad)";
    expect_close(dp[t].get(), p[t], 1e-6, "adamw param" + what);
    expect_close(dm[t].get(), m[t], 1e-6, "adamw exp_avg" + what);
    expect_equal(dg[t].get(), std::vector<float>(static_cast<size_t>(sizes[t]), 0.0f), "zeroed gradient" + what);
  }
}

TEST(OpsCuda, LossesAndTheirGradients) {
  REQUIRE_GPU();
  const int64_t N = 37, C = 5;
  auto z = random_vector(N * C, 60, 3.0f);
  std::vector<int64_t> labels(N);
  for (int64_t n = 0; n < N; ++n) labels[n] = n % 7 == 3 ? kIgnoreIndex : n % C;
  std::vector<float> g(N * C);
  const float loss = cross_entropy_loss(kRef, z.data(), labels.data(), g.data(), N, C);
  Dev<float> dz(z), dg(zeros(N * C));
  Dev<int64_t> dl(labels);
  EXPECT_NEAR(cross_entropy_loss(kCuda, dz.ptr(), dl.ptr(), dg.ptr(), N, C), loss, 1e-6 * std::fabs(loss));
  expect_close(dg.get(), g, 1e-6, "cross-entropy gradient");
  auto bad = labels;
  bad[11] = C;
  Dev<int64_t> dbad(bad);
  try {
    cross_entropy_loss(kCuda, dz.ptr(), dbad.ptr(), dg.ptr(), N, C);
    FAIL() << "out-of-range label accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 5 of batch row 11"), std::string::npos) << e.what();
  }
  auto y = random_vector(N * C, 61);
  for (auto& v : y) v = v > 0 ? 1.0f : 0.0f;
  Dev<float> dy(y);
  const float bce = bce_with_logits_loss(kRef, z.data(), y.data(), g.data(), N, C);
  EXPECT_NEAR(bce_with_logits_loss(kCuda, dz.ptr(), dy.ptr(), dg.ptr(), N, C), bce, 1e-6 * bce);
  expect_close(dg.get(), g, 1e-6, "bce gradient");
  const float mse = mse_loss(kRef, z.data(), y.data(), g.data(), N, C);
  EXPECT_NEAR(mse_loss(kCuda, dz.ptr(), dy.ptr(), dg.ptr(), N, C), mse, 1e-6 * mse);
  expect_close(dg.get(), g, 1e-6, "mse gradient");
}
