// ops/cuda/embedding.cu — embedding lookup and its scatter-add gradient (embedding.h) on the GPU.
//
// Backward must add many rows into the same table row (repeated ids) without atomics, so that a seed gives the
// same gradient on every run and the same summation order as the cpu path: positions are sorted by id with a
// stable radix sort (CUB), and each run of equal ids is summed in position order by one thread per column.
#include <cub/device/device_radix_sort.cuh>

#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/runtime.h"

namespace accent::cuda {

namespace {

__global__ void embedding_forward_kernel(const int32_t* ids, const float* table, float* y, int64_t rows, int64_t V,
                                         int64_t C, bool accumulate, unsigned long long* bad_position) {
  const int64_t n = rows * C;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / C, c = i % C;
    const int32_t id = ids[r];
    if (id < 0 || id >= V) {
      if (c == 0) atomicMin(bad_position, static_cast<unsigned long long>(r));
      continue;
    }
    const float v = table[static_cast<int64_t>(id) * C + c];
    y[i] = accumulate ? y[i] + v : v;
  }
}

__global__ void iota_kernel(int32_t* positions, int64_t rows) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < rows;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    positions[i] = static_cast<int32_t>(i);
}

// Thread (k, c): when sorted position k starts a run of equal ids, dtable[id, c] += Σ_run dy[position, c] in
// position order (the stable sort kept it). Rows with padding_idx get no gradient.
__global__ void embedding_backward_kernel(const int32_t* sorted_ids, const int32_t* sorted_positions, const float* dy,
                                          float* dtable, int64_t rows, int64_t C, int64_t padding_idx) {
  const int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t k = blockIdx.y;
  if (c >= C) return;
  const int32_t id = sorted_ids[k];
  if (k > 0 && sorted_ids[k - 1] == id) return;  // not the start of a run
  if (id == padding_idx) return;
  float acc = dtable[static_cast<int64_t>(id) * C + c];
  for (int64_t j = k; j < rows && sorted_ids[j] == id; ++j)
    acc += dy[static_cast<int64_t>(sorted_positions[j]) * C + c];
  dtable[static_cast<int64_t>(id) * C + c] = acc;
}

__global__ void check_ids_kernel(const int32_t* ids, int64_t rows, int64_t V, unsigned long long* bad_position) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x)
    if (ids[r] < 0 || ids[r] >= V) atomicMin(bad_position, static_cast<unsigned long long>(r));
}

unsigned long long* reset_flag() {
  auto* bad = static_cast<unsigned long long*>(workspace(Workspace::ErrorFlag, sizeof(unsigned long long)));
  check(cudaMemsetAsync(bad, 0xff, sizeof(unsigned long long), stream()), "embedding check");
  return bad;
}

// The first out-of-range position (synchronises), or -1.
int64_t read_flag(const unsigned long long* bad) {
  unsigned long long position = 0;
  check(cudaMemcpyAsync(&position, bad, sizeof position, cudaMemcpyDeviceToHost, stream()), "embedding check");
  check(cudaStreamSynchronize(stream()), "embedding check");
  return position == ~0ULL ? -1 : static_cast<int64_t>(position);
}

int32_t id_at(const int32_t* ids, int64_t position) {
  int32_t id = 0;
  check(cudaMemcpy(&id, ids + position, sizeof id, cudaMemcpyDeviceToHost), "embedding check");
  return id;
}

}  // namespace

void embedding_forward(const int32_t* ids, const float* table, float* y, int64_t rows, int64_t V, int64_t C,
                       bool accumulate, const char* table_name) {
  if (rows * C == 0) return;
  unsigned long long* bad = reset_flag();
  embedding_forward_kernel<<<grid_for(rows * C), kThreads, 0, stream()>>>(ids, table, y, rows, V, C, accumulate, bad);
  check_launch("embedding_forward");
  const int64_t position = read_flag(bad);
  if (position >= 0)
    fail(table_name, ": index ", id_at(ids, position), " at position ", position, " is out of range (table has ", V,
         " rows)");
}

void embedding_backward(const int32_t* ids, const float* dy, float* dtable, int64_t rows, int64_t V, int64_t C,
                        int64_t padding_idx) {
  if (rows == 0 || C == 0) return;
  unsigned long long* bad = reset_flag();
  check_ids_kernel<<<grid_for(rows), kThreads, 0, stream()>>>(ids, rows, V, bad);
  check_launch("embedding_backward");
  const int64_t position = read_flag(bad);
  if (position >= 0) fail("embedding backward: index ", id_at(ids, position), " out of range [0, ", V, ")");

  // keys: ids, values: positions; sorted (stable) into the second halves.
  auto* sort = static_cast<int32_t*>(workspace(Workspace::SortKeys, 4 * rows * sizeof(int32_t)));
  int32_t* positions = sort;
  int32_t* sorted_ids = sort + rows;
  int32_t* sorted_positions = sort + 2 * rows;
  iota_kernel<<<grid_for(rows), kThreads, 0, stream()>>>(positions, rows);
  check_launch("embedding_backward (positions)");
  int end_bit = 1;
  while (end_bit < 31 && (int64_t{1} << end_bit) < V) ++end_bit;  // sort only the bits an id can have
  size_t temp_bytes = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, ids, sorted_ids, positions, sorted_positions,
                                        static_cast<int>(rows), 0, end_bit, stream()),
        "embedding_backward (sort size)");
  void* temp = workspace(Workspace::SortTemp, temp_bytes);
  check(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, ids, sorted_ids, positions, sorted_positions,
                                        static_cast<int>(rows), 0, end_bit, stream()),
        "embedding_backward (sort)");
  const dim3 grid(static_cast<unsigned>((C + 127) / 128), static_cast<unsigned>(rows));
  embedding_backward_kernel<<<grid, 128, 0, stream()>>>(sorted_ids, sorted_positions, dy, dtable, rows, C,
                                                        padding_idx);
  check_launch("embedding_backward");
}

}  // namespace accent::cuda
