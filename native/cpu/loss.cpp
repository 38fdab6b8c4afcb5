// Losses and indexing: fused softmax cross-entropy (+ backward), gather, scatterAdd, gatherRows/scatterAddRows
// (embedding lookup and its gradient), countNonFinite.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <limits>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {

// ==== reference ===============================================================================================

namespace ref {

template <class T>
void softmax_cross_entropy(const T* x, const int32_t* labels, T* loss, T* probs, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i) {
    const T* row = x + i * c;
    double m = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < c; ++j) m = std::max(m, static_cast<double>(row[j]));
    double s = 0;
    for (int64_t j = 0; j < c; ++j) s += std::exp(row[j] - m);
    double lse = m + std::log(s);
    loss[i] = static_cast<T>(lse - row[labels[i]]);
    for (int64_t j = 0; j < c; ++j) probs[i * c + j] = static_cast<T>(std::exp(row[j] - m) / s);
  }
}

template <class T>
void softmax_cross_entropy_backward(const T* probs, const int32_t* labels, const T* gy, T* gx, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < c; ++j)
      gx[i * c + j] = static_cast<T>((probs[i * c + j] - (j == labels[i] ? 1.0 : 0.0)) * gy[i]);
}

template <class T>
void gather(const T* x, const int32_t* idx, T* out, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i * c + idx[i]];
}

template <class T>
void scatter_add(const T* gy, const int32_t* idx, T* gx, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i) gx[i * c + idx[i]] += gy[i];
}

template <class T>
void gather_rows(const T* table, const int32_t* idx, T* out, int64_t n, int64_t d) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) out[i * d + j] = table[idx[i] * d + j];
}

template <class T>
void scatter_add_rows(const T* g, const int32_t* idx, T* table, int64_t n, int64_t d) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) table[idx[i] * d + j] += g[i * d + j];
}

template <class T>
int64_t count_non_finite(const T* x, int64_t n) {
  int64_t cnt = 0;
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i])) ++cnt;
  return cnt;
}

}  // namespace ref

// ==== optimised ===============================================================================================

namespace opt {

template <class T>
void softmax_cross_entropy(const T* x, const int32_t* labels, T* loss, T* probs, int64_t n, int64_t c) {
  parallel_rows(n, c, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* row = x + i * c;
      T* p = probs + i * c;
      const T xl = row[labels[i]];  // read before probs is written (safe even if probs aliases logits)
      T m = row[0];
#pragma omp simd reduction(max : m)
      for (int64_t j = 0; j < c; ++j) m = row[j] > m ? row[j] : m;
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < c; ++j) {
        T e = vexp<T>(row[j] - m);
        p[j] = e;
        s += e;
      }
      const T inv = T(1) / s;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) p[j] *= inv;
      loss[i] = (m - xl) + std::log(s);
    }
  });
}

template <class T>
void softmax_cross_entropy_backward(const T* probs, const int32_t* labels, const T* gy, T* gx, int64_t n, int64_t c) {
  parallel_rows(n, c, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T g = gy[i];
      const T* p = probs + i * c;
      T* d = gx + i * c;
#pragma omp simd
      for (int64_t j = 0; j < c; ++j) d[j] = p[j] * g;
      d[labels[i]] = (p[labels[i]] - T(1)) * g;
    }
  });
}

template <class T>
void gather(const T* x, const int32_t* idx, T* out, int64_t n, int64_t c) {
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = x[i * c + idx[i]];
  });
}

template <class T>
void gather_rows(const T* table, const int32_t* idx, T* out, int64_t n, int64_t d) {
  parallel_for(n, std::max<int64_t>(1, kParallelThreshold / std::max<int64_t>(d, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) std::memcpy(out + i * d, table + static_cast<int64_t>(idx[i]) * d, sizeof(T) * d);
  });
}

template <class T>
void scatter_add_rows(const T* g, const int32_t* idx, T* table, int64_t n, int64_t d) {
  // indices may repeat: split the columns between threads, never the rows, so no two threads add into one element
  parallel_for(d, std::max<int64_t>(1, kParallelThreshold / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = 0; i < n; ++i) {
      T* dst = table + static_cast<int64_t>(idx[i]) * d;
      const T* src = g + i * d;
#pragma omp simd
      for (int64_t j = b; j < e; ++j) dst[j] += src[j];
    }
  });
}

template <class T>
void scatter_add(const T* gy, const int32_t* idx, T* gx, int64_t n, int64_t c) {
  // rows are disjoint, so the row split is race-free
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) gx[i * c + idx[i]] += gy[i];
  });
}

template <class T>
int64_t count_non_finite(const T* x, int64_t n) {
  const T big = std::numeric_limits<T>::max();
  int64_t total = 0;
  if (n > kParallelThreshold && num_threads() > 1) {
#pragma omp parallel for simd reduction(+ : total) num_threads(num_threads())
    for (int64_t i = 0; i < n; ++i) total += std::fabs(x[i]) <= big ? 0 : 1;
  } else {
#pragma omp simd reduction(+ : total)
    for (int64_t i = 0; i < n; ++i) total += std::fabs(x[i]) <= big ? 0 : 1;
  }
  return total;
}

}  // namespace opt

// ==== dispatch ================================================================================================

void softmax_cross_entropy(int dtype, const void* logits, const int32_t* labels, void* loss, void* probs, int64_t n,
                           int64_t c) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::softmax_cross_entropy<T> : opt::softmax_cross_entropy<T>)(
                                 static_cast<const T*>(logits), labels, static_cast<T*>(loss),
                                 static_cast<T*>(probs), n, c));
}

void softmax_cross_entropy_backward(int dtype, const void* probs, const int32_t* labels, const void* gy, void* gx,
                                    int64_t n, int64_t c) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::softmax_cross_entropy_backward<T> : opt::softmax_cross_entropy_backward<T>)(
                                 static_cast<const T*>(probs), labels, static_cast<const T*>(gy),
                                 static_cast<T*>(gx), n, c));
}

void gather(int dtype, const void* x, const int32_t* idx, void* out, int64_t n, int64_t c) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::gather<T> : opt::gather<T>)(static_cast<const T*>(x), idx,
                                                                     static_cast<T*>(out), n, c));
}

void scatter_add(int dtype, const void* gy, const int32_t* idx, void* gx, int64_t n, int64_t c) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::scatter_add<T> : opt::scatter_add<T>)(static_cast<const T*>(gy), idx,
                                                                               static_cast<T*>(gx), n, c));
}

void gather_rows(int dtype, const void* table, const int32_t* idx, void* out, int64_t n, int64_t d) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::gather_rows<T> : opt::gather_rows<T>)(static_cast<const T*>(table), idx,
                                                                             static_cast<T*>(out), n, d));
}

void scatter_add_rows(int dtype, const void* g, const int32_t* idx, void* table, int64_t n, int64_t d) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::scatter_add_rows<T> : opt::scatter_add_rows<T>)(static_cast<const T*>(g), idx,
                                                                                       static_cast<T*>(table), n, d));
}

int64_t count_non_finite(int dtype, const void* x, int64_t n) {
  const bool r = reference_mode();
  int64_t out = 0;
  PYDL_DISPATCH_FLOAT(dtype, out = (r ? ref::count_non_finite<T> : opt::count_non_finite<T>)(
                                 static_cast<const T*>(x), n));
  return out;
}

}  // namespace pydl

// ==== JNI =====================================================================================================

using namespace pydl;

namespace {
/// [n, c] operand sizes; returns n*c.
int64_t check_nc(int64_t n, int64_t c) {
  check_count(n, "n");
  check_count(c, "c");
  int64_t t;
  if (__builtin_mul_overflow(n, c, &t)) fail("n*c overflows (%" PRId64 " x %" PRId64 ")", n, c);
  if (c > INT32_MAX) fail("c = %" PRId64 " does not fit int32 indices", c);
  return t;
}

/// Every idx[i] must be in [0, c).
void check_indices(const int32_t* idx, int64_t n, int64_t c, const char* what) {
  for (int64_t i = 0; i < n; ++i)
    if (idx[i] < 0 || idx[i] >= c)
      fail("%s[%" PRId64 "] = %d is out of range (valid: 0 <= %s < %" PRId64 ")", what, i, idx[i], what, c);
}
}  // namespace

extern "C" {

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_softmaxCrossEntropy(JNIEnv* env, jclass, jint dtype, jlong logits,
                                                                       jlong labels, jlong loss, jlong probs,
                                                                       jlong n, jlong c) {
  PYDL_JNI_BEGIN("softmaxCrossEntropy")
  check_float_dtype(dtype);
  int64_t total = check_nc(n, c);
  if (n > 0 && c == 0) fail("c must be >= 1 when n > 0 (no classes)");
  check_elems(logits, total, dtype, "logits");
  check_elems(labels, n, kInt32, "labels");
  check_elems(loss, n, dtype, "loss");
  check_elems(probs, total, dtype, "probs");
  if (n == 0) return;
  check_indices(as_ptr<const int32_t>(labels), n, c, "label");
  softmax_cross_entropy(dtype, as_ptr<const void>(logits), as_ptr<const int32_t>(labels), as_ptr<void>(loss),
                        as_ptr<void>(probs), n, c);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_softmaxCrossEntropyBackward(JNIEnv* env, jclass, jint dtype,
                                                                               jlong probs, jlong labels, jlong gy,
                                                                               jlong gx, jlong n, jlong c) {
  PYDL_JNI_BEGIN("softmaxCrossEntropyBackward")
  check_float_dtype(dtype);
  int64_t total = check_nc(n, c);
  if (n > 0 && c == 0) fail("c must be >= 1 when n > 0 (no classes)");
  check_elems(probs, total, dtype, "probs");
  check_elems(labels, n, kInt32, "labels");
  check_elems(gy, n, dtype, "gy");
  check_elems(gx, total, dtype, "gx");
  if (n == 0) return;
  check_indices(as_ptr<const int32_t>(labels), n, c, "label");
  softmax_cross_entropy_backward(dtype, as_ptr<const void>(probs), as_ptr<const int32_t>(labels),
                                 as_ptr<const void>(gy), as_ptr<void>(gx), n, c);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_gather(JNIEnv* env, jclass, jint dtype, jlong x, jlong idx,
                                                          jlong out, jlong n, jlong c) {
  PYDL_JNI_BEGIN("gather")
  check_float_dtype(dtype);
  int64_t total = check_nc(n, c);
  check_elems(x, total, dtype, "x");
  check_elems(idx, n, kInt32, "idx");
  check_elems(out, n, dtype, "out");
  if (n == 0) return;
  check_indices(as_ptr<const int32_t>(idx), n, c, "idx");
  gather(dtype, as_ptr<const void>(x), as_ptr<const int32_t>(idx), as_ptr<void>(out), n, c);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_gatherRows(JNIEnv* env, jclass, jint dtype, jlong table,
                                                              jlong rows, jlong d, jlong idx, jlong n, jlong out) {
  PYDL_JNI_BEGIN("gatherRows")
  check_float_dtype(dtype);
  int64_t total = check_nc(rows, d);
  int64_t out_total = check_nc(n, d);
  check_elems(table, total, dtype, "table");
  check_elems(idx, n, kInt32, "idx");
  check_elems(out, out_total, dtype, "out");
  if (n == 0 || d == 0) return;
  check_indices(as_ptr<const int32_t>(idx), n, rows, "idx");
  gather_rows(dtype, as_ptr<const void>(table), as_ptr<const int32_t>(idx), as_ptr<void>(out), n, d);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_scatterAddRows(JNIEnv* env, jclass, jint dtype, jlong g, jlong idx,
                                                                  jlong n, jlong table, jlong rows, jlong d) {
  PYDL_JNI_BEGIN("scatterAddRows")
  check_float_dtype(dtype);
  int64_t total = check_nc(rows, d);
  int64_t g_total = check_nc(n, d);
  check_elems(table, total, dtype, "table");
  check_elems(idx, n, kInt32, "idx");
  check_elems(g, g_total, dtype, "g");
  if (n == 0 || d == 0) return;
  check_indices(as_ptr<const int32_t>(idx), n, rows, "idx");
  scatter_add_rows(dtype, as_ptr<const void>(g), as_ptr<const int32_t>(idx), as_ptr<void>(table), n, d);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_scatterAdd(JNIEnv* env, jclass, jint dtype, jlong gy, jlong idx,
                                                              jlong gx, jlong n, jlong c) {
  PYDL_JNI_BEGIN("scatterAdd")
  check_float_dtype(dtype);
  int64_t total = check_nc(n, c);
  check_elems(gy, n, dtype, "gy");
  check_elems(idx, n, kInt32, "idx");
  check_elems(gx, total, dtype, "gx");
  if (n == 0) return;
  check_indices(as_ptr<const int32_t>(idx), n, c, "idx");
  scatter_add(dtype, as_ptr<const void>(gy), as_ptr<const int32_t>(idx), as_ptr<void>(gx), n, c);
  PYDL_JNI_END(env, )
}

JNIEXPORT jlong JNICALL Java_org_pydl_jni_NativeOps_countNonFinite(JNIEnv* env, jclass, jint dtype, jlong x,
                                                                   jlong n) {
  PYDL_JNI_BEGIN("countNonFinite")
  check_float_dtype(dtype);
  check_count(n, "n");
  check_elems(x, n, dtype, "x");
  if (n == 0) return 0;
  return count_non_finite(dtype, as_ptr<const void>(x), n);
  PYDL_JNI_END(env, 0)
}

}  // extern "C"
