// core/host_device.h — marks small inline functions that CUDA kernels call too (the counter-based RNG, the
// activation formulas), so the CPU and GPU paths share one definition instead of two copies that could drift.
// Under nvcc ACCENT_HD is __host__ __device__; in a plain C++ build it is nothing.
#pragma once

#if defined(__CUDACC__)
#define ACCENT_HD __host__ __device__
#else
#define ACCENT_HD
#endif
