// ops/cuda/layernorm.cu — LayerNorm and the fused ops around it (layernorm.h, add_layernorm.h,
// embedding_layernorm.h) and bias-gradient column sums, on the GPU.
//
// One block per row. Row statistics in double as the cpu row kernels (ops/layernorm_rows.h), so mean/rstd agree
// with the cpu path to the last float bit in all but rare rounding ties. Parameter gradients (Σ over rows per
// column) are deterministic: each block of rows writes its partial column sums, then one pass adds the partials in
// block order — no atomics, the same result on every run.
#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/reduce.cuh"
#include "ops/cuda/runtime.h"

namespace accent::cuda {

namespace {

constexpr int kRowThreads = 256;

// How the row that is normalised is made.
enum class RowSource : int { Input, AddResidual, Embeddings };

struct Lookups {  // up to three embedding tables summed in order (word, token type, position)
  const int32_t* ids[3];
  const float* table[3];
  int64_t V[3];
  int count;
};

// Forward: builds the pre-LayerNorm row (Input: x itself; AddResidual: dropout(branch) + residual written to sum;
// Embeddings: Σ table_k[ids_k] written to sum), normalises it into y, applies out_draw to y (embeddings' dropout),
// saves mean/rstd. bad_position records the first (lowest) row with an out-of-range id.
__global__ void layernorm_forward_kernel(RowSource source, const float* x, const float* residual,
                                         DropoutDraw branch_draw, Lookups lookups, const float* w, const float* b,
                                         float* sum, float* y, float* mean_out, float* rstd_out, int64_t C, float eps,
                                         DropoutDraw out_draw, unsigned long long* bad_position) {
  __shared__ double shared[32];
  const int64_t r = blockIdx.x;
  const float* row = x + r * C;
  if (source == RowSource::AddResidual) {
    const float scale = branch_draw.scale();
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      const int64_t i = r * C + c;
      const float br = branch_draw.active() ? (branch_draw.keeps(i) ? x[i] * scale : 0.0f) : x[i];
      sum[i] = br + residual[i];
    }
    row = sum + r * C;
    __syncthreads();
  } else if (source == RowSource::Embeddings) {
    bool ok = true;
    for (int k = 0; k < lookups.count; ++k) {
      const int32_t id = lookups.ids[k][r];
      ok = ok && id >= 0 && id < lookups.V[k];
    }
    if (!ok) {
      if (threadIdx.x == 0) atomicMin(bad_position, static_cast<unsigned long long>(r));
      return;
    }
    for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
      float s = lookups.table[0][static_cast<int64_t>(lookups.ids[0][r]) * C + c];
      for (int k = 1; k < lookups.count; ++k) s += lookups.table[k][static_cast<int64_t>(lookups.ids[k][r]) * C + c];
      sum[r * C + c] = s;
    }
    row = sum + r * C;
    __syncthreads();
  }
  double part = 0.0;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) part += row[c];
  const double mean = block_sum(part, shared) / static_cast<double>(C);
  double var_part = 0.0;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const double d = row[c] - mean;
    var_part += d * d;
  }
  const double var = block_sum(var_part, shared) / static_cast<double>(C);
  const float m = static_cast<float>(mean);
  const float rstd = static_cast<float>(1.0 / sqrt(var + static_cast<double>(eps)));
  const float out_scale = out_draw.scale();
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    float v = (row[c] - m) * rstd * w[c] + (b ? b[c] : 0.0f);
    if (out_draw.active()) v = out_draw.keeps(r * C + c) ? v * out_scale : 0.0f;
    y[r * C + c] = v;
  }
  if (threadIdx.x == 0) {
    mean_out[r] = m;
    rstd_out[r] = rstd;
  }
}

// Backward of one row: g = dy (·keep/(1 − p) under in_draw) ; dx = rstd·(g·w − mean(g·w) − x̂·mean(g·w·x̂)).
// Writes dx (may be null; may alias dy) and dbranch = dx·keep/(1 − p) under branch_draw (may be null; may alias x).
// Every element is read before it is written by the same thread, after the block's statistics are complete.
__global__ void layernorm_backward_kernel(const float* dy, const float* x, const float* w, const float* mean,
                                          const float* rstd, DropoutDraw in_draw, float* dx, float* dbranch,
                                          DropoutDraw branch_draw, int64_t C) {
  __shared__ double shared[32];
  const int64_t r = blockIdx.x;
  const float m = mean[r], s = rstd[r];
  const float in_scale = in_draw.scale();
  double part_g = 0.0, part_gx = 0.0;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const int64_t i = r * C + c;
    const float gy = in_draw.active() ? (in_draw.keeps(i) ? dy[i] * in_scale : 0.0f) : dy[i];
    const float g = gy * w[c];
    part_g += g;
    part_gx += static_cast<double>(g) * ((x[i] - m) * s);
  }
  const float mean_g = static_cast<float>(block_sum(part_g, shared) / static_cast<double>(C));
  const float mean_gx = static_cast<float>(block_sum(part_gx, shared) / static_cast<double>(C));
  const float branch_scale = branch_draw.scale();
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) {
    const int64_t i = r * C + c;
    const float gy = in_draw.active() ? (in_draw.keeps(i) ? dy[i] * in_scale : 0.0f) : dy[i];
    const float xhat = (x[i] - m) * s;
    const float d = s * (gy * w[c] - mean_g - xhat * mean_gx);
    if (dx) dx[i] = d;
    if (dbranch) dbranch[i] = branch_draw.active() ? (branch_draw.keeps(i) ? d * branch_scale : 0.0f) : d;
  }
}

// Column sums over rows, stage 1: block (column tile, row block) writes partial[row block][c] of
// Σ dy (bias) and Σ dy·x̂ (weight, when x is given). dy is first multiplied by in_draw's mask.
constexpr int kRowsPerBlock = 64;
__global__ void column_partials_kernel(const float* dy, const float* x, const float* mean, const float* rstd,
                                       DropoutDraw in_draw, int64_t rows, int64_t C, double* partial_w,
                                       double* partial_b) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c >= C) return;
  const int64_t r0 = blockIdx.y * static_cast<int64_t>(kRowsPerBlock);
  const int64_t r1 = min(rows, r0 + kRowsPerBlock);
  const float in_scale = in_draw.scale();
  double sw = 0.0, sb = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t i = r * C + c;
    const float g = in_draw.active() ? (in_draw.keeps(i) ? dy[i] * in_scale : 0.0f) : dy[i];
    sb += g;
    if (x) sw += g * ((x[i] - mean[r]) * rstd[r]);
  }
  partial_b[blockIdx.y * C + c] = sb;
  if (x) partial_w[blockIdx.y * C + c] = sw;
}

// Stage 2: out[c] += Σ_blocks partial[block][c], blocks in order.
__global__ void column_finish_kernel(const double* partial, int64_t blocks, int64_t C, float* out) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (c >= C) return;
  double s = 0.0;
  for (int64_t k = 0; k < blocks; ++k) s += partial[k * C + c];
  out[c] += static_cast<float>(s);
}

// dweight += Σ g·x̂ (x given), dbias += Σ g, g = dy·mask(in_draw). Null outputs are skipped.
void column_sums(const float* dy, const float* x, const float* mean, const float* rstd, const DropoutDraw& in_draw,
                 int64_t rows, int64_t C, float* dweight, float* dbias) {
  if ((!dweight && !dbias) || rows == 0 || C == 0) return;
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  auto* partial = static_cast<double*>(workspace(Workspace::ColumnPartials, 2 * blocks * C * sizeof(double)));
  double* partial_w = partial;
  double* partial_b = partial + blocks * C;
  const dim3 grid(static_cast<unsigned>((C + 127) / 128), static_cast<unsigned>(blocks));
  column_partials_kernel<<<grid, 128, 0, stream()>>>(dy, dweight ? x : nullptr, mean, rstd, in_draw, rows, C,
                                                     partial_w, partial_b);
  check_launch("column sums");
  const unsigned finish_grid = static_cast<unsigned>((C + 255) / 256);
  if (dweight) column_finish_kernel<<<finish_grid, 256, 0, stream()>>>(partial_w, blocks, C, dweight);
  if (dbias) column_finish_kernel<<<finish_grid, 256, 0, stream()>>>(partial_b, blocks, C, dbias);
  check_launch("column sums (finish)");
}

void launch_forward(RowSource source, const float* x, const float* residual, const DropoutDraw& branch_draw,
                    const Lookups& lookups, const float* w, const float* b, float* sum, float* y, float* mean,
                    float* rstd, int64_t rows, int64_t C, float eps, const DropoutDraw& out_draw,
                    unsigned long long* bad_position, const char* what) {
  if (rows == 0) return;
  layernorm_forward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream()>>>(
      source, x, residual, branch_draw, lookups, w, b, sum, y, mean, rstd, C, eps, out_draw, bad_position);
  check_launch(what);
}

}  // namespace

void column_sum_accumulate(const float* dy, float* dbias, int64_t rows, int64_t cols) {
  column_sums(dy, nullptr, nullptr, nullptr, DropoutDraw{}, rows, cols, nullptr, dbias);
}

void layernorm_forward(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                       int64_t rows, int64_t C, float eps) {
  launch_forward(RowSource::Input, x, nullptr, DropoutDraw{}, Lookups{}, weight, bias, nullptr, y, mean, rstd, rows,
                 C, eps, DropoutDraw{}, nullptr, "layernorm_forward");
}

void layernorm_backward(const float* dy, const float* x, const float* weight, const float* mean, const float* rstd,
                        float* dx, float* dweight, float* dbias, int64_t rows, int64_t C) {
  if (rows == 0) return;
  column_sums(dy, x, mean, rstd, DropoutDraw{}, rows, C, dweight, dbias);  // before dx may overwrite dy
  layernorm_backward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream()>>>(
      dy, x, weight, mean, rstd, DropoutDraw{}, dx, nullptr, DropoutDraw{}, C);
  check_launch("layernorm_backward");
}

void add_layernorm_forward(const float* branch, const float* residual, const DropoutDraw& draw, const float* weight,
                           const float* bias, float* sum, float* y, float* mean, float* rstd, int64_t rows, int64_t C,
                           float eps) {
  launch_forward(RowSource::AddResidual, branch, residual, draw, Lookups{}, weight, bias, sum, y, mean, rstd, rows,
                 C, eps, DropoutDraw{}, nullptr, "add_layernorm_forward");
}

void add_layernorm_backward(const float* dy, const float* sum, const float* weight, const float* mean,
                            const float* rstd, const DropoutDraw& draw, float* dsum, float* dbranch, float* dweight,
                            float* dbias, int64_t rows, int64_t C) {
  if (rows == 0) return;
  column_sums(dy, sum, mean, rstd, DropoutDraw{}, rows, C, dweight, dbias);  // before dbranch may overwrite sum
  layernorm_backward_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, stream()>>>(
      dy, sum, weight, mean, rstd, DropoutDraw{}, dsum, dbranch, draw, C);
  check_launch("add_layernorm_backward");
}

void embedding_layernorm_forward(const EmbeddingLookup* lookups, int count, const float* weight, const float* bias,
                                 const DropoutDraw& draw, float* sum, float* y, float* mean, float* rstd, int64_t rows,
                                 int64_t C, float eps) {
  ACCENT_CHECK(count >= 1 && count <= 3, "embedding_layernorm_forward: 1 to 3 lookups, got ", count);
  Lookups l{};
  l.count = count;
  for (int k = 0; k < count; ++k) {
    l.ids[k] = lookups[k].ids;
    l.table[k] = lookups[k].table;
    l.V[k] = lookups[k].V;
  }
  auto* bad = static_cast<unsigned long long*>(workspace(Workspace::ErrorFlag, sizeof(unsigned long long)));
  check(cudaMemsetAsync(bad, 0xff, sizeof(unsigned long long), stream()), "embedding_layernorm_forward");
  launch_forward(RowSource::Embeddings, nullptr, nullptr, DropoutDraw{}, l, weight, bias, sum, y, mean, rstd, rows, C,
                 eps, draw, bad, "embedding_layernorm_forward");
  // An out-of-range id is the cpu path's error, with its position: read the flag (synchronises).
  unsigned long long position = 0;
  check(cudaMemcpyAsync(&position, bad, sizeof position, cudaMemcpyDeviceToHost, stream()), "embedding check");
  check(cudaStreamSynchronize(stream()), "embedding check");
  if (position != ~0ULL) {
    for (int k = 0; k < count; ++k) {
      int32_t id = 0;
      check(cudaMemcpy(&id, lookups[k].ids + position, sizeof id, cudaMemcpyDeviceToHost), "embedding check");
      ACCENT_CHECK(id >= 0 && id < lookups[k].V, lookups[k].name, ": index ", id, " at position ", position,
                   " is out of range (table has ", lookups[k].V, " rows)");
    }
  }
}

}  // namespace accent::cuda
