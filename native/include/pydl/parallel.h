// CPU helpers shared by the optimised kernels: thresholded OpenMP loops, N-d strided iteration, vectorisable math.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"

namespace pydl {

/// Below this many elements a kernel runs single-threaded (fork/join costs more than it saves).
constexpr int64_t kParallelThreshold = 32768;

/// Calls f(begin, end) over [0, n) split into contiguous chunks, one per thread, when n > grain; else f(0, n).
/// Chunk boundaries are multiples of `align` (elements) so SIMD loops stay aligned. f must not throw.
template <class F>
inline void parallel_for(int64_t n, int64_t grain, F&& f, int64_t align = 16) {
  int nt = num_threads();
  if (n <= grain || nt <= 1) {
    if (n > 0) f(int64_t{0}, n);
    return;
  }
  int64_t tasks = std::min<int64_t>(nt, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (tasks <= 1) {
    f(int64_t{0}, n);
    return;
  }
#pragma omp parallel num_threads(static_cast<int>(tasks))
  {
    int64_t t = omp_get_thread_num();
    int64_t nth = omp_get_num_threads();
    int64_t chunk = (n + nth - 1) / nth;
    if (align > 1) chunk = (chunk + align - 1) / align * align;
    int64_t b = std::min(n, t * chunk), e = std::min(n, b + chunk);
    if (b < e) f(b, e);
  }
}

/// Element-count-based parallel_for over rows of `row_len` elements each.
template <class F>
inline void parallel_rows(int64_t rows, int64_t row_len, F&& f) {
  int64_t grain = std::max<int64_t>(1, kParallelThreshold / std::max<int64_t>(row_len, 1));
  parallel_for(rows, grain, std::forward<F>(f), 1);
}

/// N-d iteration plan over K operands (strides in elements). Size-1 dims are dropped and dims that are
/// contiguous for every operand merged, so the innermost dimension is as long as possible.
template <int K>
struct StridedPlan {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t st[K][kMaxDims];

  StridedPlan(const int64_t* sh, const int64_t* const* strides, int nd) {
    for (int d = 0; d < nd; ++d) {
      if (sh[d] == 1) continue;
      if (ndim > 0) {
        bool merge = true;
        for (int k = 0; k < K; ++k)
          if (st[k][ndim - 1] != strides[k][d] * sh[d]) { merge = false; break; }
        if (merge) {
          shape[ndim - 1] *= sh[d];
          for (int k = 0; k < K; ++k) st[k][ndim - 1] = strides[k][d];
          continue;
        }
      }
      shape[ndim] = sh[d];
      for (int k = 0; k < K; ++k) st[k][ndim] = strides[k][d];
      ++ndim;
    }
    if (ndim == 0) {  // scalar (or all size-1 dims)
      ndim = 1;
      shape[0] = 1;
      for (int k = 0; k < K; ++k) st[k][0] = 1;
    }
  }
  int64_t inner() const { return shape[ndim - 1]; }
  int64_t rows() const {
    int64_t r = 1;
    for (int d = 0; d < ndim - 1; ++d) r *= shape[d];
    return r;
  }
  /// Calls f(off[K]) for every row in [r0, r1) with the element offset of each operand's row start.
  template <class F>
  void for_rows(int64_t r0, int64_t r1, F&& f) const {
    int64_t idx[kMaxDims];
    int64_t off[K];
    for (int k = 0; k < K; ++k) off[k] = 0;
    int64_t r = r0;
    for (int d = ndim - 2; d >= 0; --d) {
      idx[d] = r % shape[d];
      r /= shape[d];
      for (int k = 0; k < K; ++k) off[k] += idx[d] * st[k][d];
    }
    for (int64_t row = r0; row < r1; ++row) {
      f(static_cast<const int64_t*>(off));
      for (int d = ndim - 2; d >= 0; --d) {  // odometer increment
        if (++idx[d] < shape[d]) {
          for (int k = 0; k < K; ++k) off[k] += st[k][d];
          break;
        }
        idx[d] = 0;
        for (int k = 0; k < K; ++k) off[k] -= (shape[d] - 1) * st[k][d];
      }
    }
  }
};

// ---- vectorisable math (branch-free, inlined into `omp simd` loops) ----
// Always inlined: a call (through the PLT, since the library is position-independent) inside a loop stops it from
// vectorising; measured 10x slower exp/sigmoid/tanh before this.
#define PYDL_VECTOR_MATH inline __attribute__((always_inline))

PYDL_VECTOR_MATH float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

/// exp for float, ~2 ulp (Cephes polynomial); results below FLT_MIN flush to 0, overflow gives +inf, NaN stays NaN.
PYDL_VECTOR_MATH float fast_expf(float xin) {
  float x = xin > -87.0f ? xin : -87.0f;  // NaN -> -87 (no UB in the int conversion); result fixed up below
  x = x < 88.72f ? x : 88.72f;
  float fx = std::floor(x * 1.44269504088896341f + 0.5f);
  x -= fx * 0.693359375f;
  x -= fx * -2.12194440e-4f;
  float z = x * x;
  float y = 1.9875691500E-4f;
  y = y * x + 1.3981999507E-3f;
  y = y * x + 8.3334519073E-3f;
  y = y * x + 4.1665795894E-2f;
  y = y * x + 1.6666665459E-1f;
  y = y * x + 5.0000001201E-1f;
  y = y * z + x + 1.0f;
  int32_t e = static_cast<int32_t>(fx) + 126;  // 2^(fx-1), times 2 below: fx = 128 stays finite until the product
  float p = bits_to_float(static_cast<uint32_t>(e) << 23);
  float r = y * p * 2.0f;
  r = xin < -87.0f ? 0.0f : r;
  r = xin > 88.72f ? std::numeric_limits<float>::infinity() : r;
  return xin != xin ? xin : r;
}

template <class T>
PYDL_VECTOR_MATH T vexp(T x) {
  return std::exp(x);
}
template <>
PYDL_VECTOR_MATH float vexp<float>(float x) {
  return fast_expf(x);
}

/// sigmoid(x), branch-free (vexp of -|x|); float uses fast_expf.
template <class T>
PYDL_VECTOR_MATH T vsigmoid(T x) {
  T e = vexp<T>(-std::fabs(x));
  T r = T(1) / (T(1) + e);
  return x >= T(0) ? r : e * r;
}

/// tanh(x); float: from fast_expf, a short series below |x| = 0.1 where 1 - e^(-2|x|) cancels.
template <class T>
PYDL_VECTOR_MATH T vtanh(T x) {
  return std::tanh(x);
}
template <>
PYDL_VECTOR_MATH float vtanh<float>(float x) {
  float ax = std::fabs(x);
  float t = fast_expf(-2.0f * ax);
  float r = (1.0f - t) / (1.0f + t);
  float x2 = x * x;  // series for small |x| where 1 - t cancels
  float s = ax * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
  r = ax < 0.1f ? s : r;
  r = std::copysign(r, x);
  return x != x ? x : r;
}

}  // namespace pydl
