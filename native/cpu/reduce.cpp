// Reductions over the middle axis of a contiguous [outer, n, inner] view: reduce, argmax, softmax (+ backward).
#include <cinttypes>
#include <cmath>
#include <limits>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {

const char* const kReduceOpNames[] = {"sum", "max", "min"};

namespace {
/// NaN-propagating max/min (a NaN anywhere in the reduced range gives NaN).
template <class T>
inline T nan_max(T acc, T v) {
  return (v > acc || v != v) ? v : acc;
}
template <class T>
inline T nan_min(T acc, T v) {
  return (v < acc || v != v) ? v : acc;
}
}  // namespace

// ==== reference ===============================================================================================

namespace ref {

template <class T>
void reduce(ReduceOp op, const T* x, T* out, int64_t outer, int64_t n, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = x + o * n * inner + i;
      double acc = op == ReduceOp::kSum ? 0.0 : static_cast<double>(p[0]);
      for (int64_t j = 0; j < n; ++j) {
        double v = p[j * inner];
        if (op == ReduceOp::kSum) acc += v;
        else if (op == ReduceOp::kMax) acc = nan_max(acc, v);
        else acc = nan_min(acc, v);
      }
      out[o * inner + i] = static_cast<T>(acc);
    }
}

template <class T>
void argmax(const T* x, int32_t* out, int64_t outer, int64_t n, int64_t inner) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = x + o * n * inner + i;
      T best = p[0];
      int32_t bi = 0;
      for (int64_t j = 1; j < n; ++j) {
        T v = p[j * inner];
        if (best != best) break;  // first NaN is the maximum
        if (v > best || v != v) { best = v; bi = static_cast<int32_t>(j); }
      }
      out[o * inner + i] = bi;
    }
}

template <class T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* p = x + o * n * inner + i;
      T* q = y + o * n * inner + i;
      double m = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < n; ++j) m = std::max(m, static_cast<double>(p[j * inner]));
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += std::exp(p[j * inner] - m);
      double ls = std::log(s);
      for (int64_t j = 0; j < n; ++j)
        q[j * inner] = static_cast<T>(log ? p[j * inner] - m - ls : std::exp(p[j * inner] - m) / s);
    }
}

template <class T>
void softmax_backward(const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner, bool log) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t base = o * n * inner + i;
      double s = 0;
      for (int64_t j = 0; j < n; ++j) {
        int64_t k = base + j * inner;
        s += log ? static_cast<double>(gy[k]) : static_cast<double>(gy[k]) * y[k];
      }
      for (int64_t j = 0; j < n; ++j) {
        int64_t k = base + j * inner;
        gx[k] = static_cast<T>(log ? gy[k] - std::exp(static_cast<double>(y[k])) * s : y[k] * (gy[k] - s));
      }
    }
}

}  // namespace ref

// ==== optimised ===============================================================================================

namespace opt {

constexpr int64_t kBlock = 256;  // inner-axis block kept in stack accumulators

/// Runs f(o, i0, i1) over [outer] x blocks of [inner], in parallel when the total work is large.
template <class F>
inline void for_blocks(int64_t outer, int64_t n, int64_t inner, F&& f) {
  int64_t nb = (inner + kBlock - 1) / kBlock;
  int64_t tasks = outer * nb;
  int64_t work_per_task = n * std::min(inner, kBlock);
  int64_t grain = std::max<int64_t>(1, kParallelThreshold / std::max<int64_t>(work_per_task, 1));
  parallel_for(tasks, grain, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t o = t / nb, i0 = (t % nb) * kBlock;
      f(o, i0, std::min(inner, i0 + kBlock));
    }
  }, 1);
}

template <class T>
inline double row_sum(const T* p, int64_t n) {
  double acc = 0;
#pragma omp simd reduction(+ : acc)
  for (int64_t j = 0; j < n; ++j) acc += p[j];
  return acc;
}

template <class T, bool kMax>
inline T row_extreme(const T* p, int64_t n) {
  T m = p[0];
  int nan = 0;
  if (kMax) {
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (int64_t j = 0; j < n; ++j) { m = p[j] > m ? p[j] : m; nan |= (p[j] != p[j]); }
  } else {
#pragma omp simd reduction(min : m) reduction(| : nan)
    for (int64_t j = 0; j < n; ++j) { m = p[j] < m ? p[j] : m; nan |= (p[j] != p[j]); }
  }
  return nan ? std::numeric_limits<T>::quiet_NaN() : m;
}

template <class T>
void reduce(ReduceOp op, const T* x, T* out, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {
    if (outer < 2 * num_threads() && n > kParallelThreshold && num_threads() > 1) {
      // few long rows: split each row across threads
      for (int64_t o = 0; o < outer; ++o) {
        const T* p = x + o * n;
        if (op == ReduceOp::kSum) {
          double acc = 0;
#pragma omp parallel for simd reduction(+ : acc) num_threads(num_threads())
          for (int64_t j = 0; j < n; ++j) acc += p[j];
          out[o] = static_cast<T>(acc);
        } else {
          T m = p[0];
          int nan = 0;
          if (op == ReduceOp::kMax) {
#pragma omp parallel for simd reduction(max : m) reduction(| : nan) num_threads(num_threads())
            for (int64_t j = 0; j < n; ++j) { m = p[j] > m ? p[j] : m; nan |= (p[j] != p[j]); }
          } else {
#pragma omp parallel for simd reduction(min : m) reduction(| : nan) num_threads(num_threads())
            for (int64_t j = 0; j < n; ++j) { m = p[j] < m ? p[j] : m; nan |= (p[j] != p[j]); }
          }
          out[o] = nan ? std::numeric_limits<T>::quiet_NaN() : m;
        }
      }
      return;
    }
    parallel_rows(outer, n, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* p = x + o * n;
        out[o] = op == ReduceOp::kSum ? static_cast<T>(row_sum(p, n))
                 : op == ReduceOp::kMax ? row_extreme<T, true>(p, n)
                                        : row_extreme<T, false>(p, n);
      }
    });
    return;
  }
  for_blocks(outer, n, inner, [&](int64_t o, int64_t i0, int64_t i1) {
    const int64_t w = i1 - i0;
    const T* p = x + o * n * inner + i0;
    T* q = out + o * inner + i0;
    if (op == ReduceOp::kSum) {
      double acc[kBlock];
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) acc[i] = 0;
      for (int64_t j = 0; j < n; ++j) {
        const T* r = p + j * inner;
#pragma omp simd
        for (int64_t i = 0; i < w; ++i) acc[i] += r[i];
      }
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) q[i] = static_cast<T>(acc[i]);
    } else {
      T acc[kBlock];
      for (int64_t i = 0; i < w; ++i) acc[i] = p[i];
      for (int64_t j = 1; j < n; ++j) {
        const T* r = p + j * inner;
        if (op == ReduceOp::kMax) {
#pragma omp simd
          for (int64_t i = 0; i < w; ++i) acc[i] = nan_max(acc[i], r[i]);
        } else {
#pragma omp simd
          for (int64_t i = 0; i < w; ++i) acc[i] = nan_min(acc[i], r[i]);
        }
      }
      for (int64_t i = 0; i < w; ++i) q[i] = acc[i];
    }
  });
}

template <class T>
void argmax(const T* x, int32_t* out, int64_t outer, int64_t n, int64_t inner) {
  if (inner == 1) {
    parallel_rows(outer, n, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* p = x + o * n;
        T m = row_extreme<T, true>(p, n);  // vectorised max, then the first position holding it
        int64_t j = 0;
        if (m != m) {
          while (p[j] == p[j]) ++j;
        } else {
          while (p[j] != m) ++j;
        }
        out[o] = static_cast<int32_t>(j);
      }
    });
    return;
  }
  for_blocks(outer, n, inner, [&](int64_t o, int64_t i0, int64_t i1) {
    const int64_t w = i1 - i0;
    const T* p = x + o * n * inner + i0;
    T best[kBlock];
    int32_t bi[kBlock];
    for (int64_t i = 0; i < w; ++i) { best[i] = p[i]; bi[i] = 0; }
    for (int64_t j = 1; j < n; ++j) {
      const T* r = p + j * inner;
      const int32_t jj = static_cast<int32_t>(j);
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        bool take = best[i] == best[i] && (r[i] > best[i] || r[i] != r[i]);
        best[i] = take ? r[i] : best[i];
        bi[i] = take ? jj : bi[i];
      }
    }
    for (int64_t i = 0; i < w; ++i) out[o * inner + i0 + i] = bi[i];
  });
}

template <class T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (inner == 1) {
    parallel_rows(outer, n, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* p = x + o * n;
        T* q = y + o * n;
        T m = p[0];
#pragma omp simd reduction(max : m)
        for (int64_t j = 0; j < n; ++j) m = p[j] > m ? p[j] : m;
        if (log) {
          T s = 0;
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < n; ++j) s += vexp<T>(p[j] - m);
          const T ls = std::log(s);  // (x - m) - log(s): exact subtraction first keeps float32 precise
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) q[j] = (p[j] - m) - ls;
        } else {
          T s = 0;
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < n; ++j) {
            T e = vexp<T>(p[j] - m);
            q[j] = e;
            s += e;
          }
          const T inv = T(1) / s;
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) q[j] *= inv;
        }
      }
    });
    return;
  }
  for_blocks(outer, n, inner, [&](int64_t o, int64_t i0, int64_t i1) {
    const int64_t w = i1 - i0;
    const T* p = x + o * n * inner + i0;
    T* q = y + o * n * inner + i0;
    T m[kBlock], s[kBlock];
    for (int64_t i = 0; i < w; ++i) { m[i] = p[i]; s[i] = 0; }
    for (int64_t j = 1; j < n; ++j) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) m[i] = p[j * inner + i] > m[i] ? p[j * inner + i] : m[i];
    }
    for (int64_t j = 0; j < n; ++j) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        T e = vexp<T>(p[j * inner + i] - m[i]);
        if (!log) q[j * inner + i] = e;
        s[i] += e;
      }
    }
    if (log) {
      for (int64_t i = 0; i < w; ++i) s[i] = std::log(s[i]);
      for (int64_t j = 0; j < n; ++j) {
#pragma omp simd
        for (int64_t i = 0; i < w; ++i) q[j * inner + i] = (p[j * inner + i] - m[i]) - s[i];
      }
    } else {
      for (int64_t i = 0; i < w; ++i) s[i] = T(1) / s[i];
      for (int64_t j = 0; j < n; ++j) {
#pragma omp simd
        for (int64_t i = 0; i < w; ++i) q[j * inner + i] *= s[i];
      }
    }
  });
}

template <class T>
void softmax_backward(const T* y, const T* gy, T* gx, int64_t outer, int64_t n, int64_t inner, bool log) {
  if (inner == 1) {
    parallel_rows(outer, n, [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) {
        const T* yp = y + o * n;
        const T* g = gy + o * n;
        T* d = gx + o * n;
        T s = 0;
        if (log) {
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < n; ++j) s += g[j];
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) d[j] = g[j] - vexp<T>(yp[j]) * s;
        } else {
#pragma omp simd reduction(+ : s)
          for (int64_t j = 0; j < n; ++j) s += g[j] * yp[j];
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) d[j] = yp[j] * (g[j] - s);
        }
      }
    });
    return;
  }
  for_blocks(outer, n, inner, [&](int64_t o, int64_t i0, int64_t i1) {
    const int64_t w = i1 - i0;
    const int64_t base = o * n * inner + i0;
    const T* yp = y + base;
    const T* g = gy + base;
    T* d = gx + base;
    T s[kBlock];
    for (int64_t i = 0; i < w; ++i) s[i] = 0;
    for (int64_t j = 0; j < n; ++j) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) s[i] += log ? g[j * inner + i] : g[j * inner + i] * yp[j * inner + i];
    }
    for (int64_t j = 0; j < n; ++j) {
#pragma omp simd
      for (int64_t i = 0; i < w; ++i) {
        int64_t k = j * inner + i;
        d[k] = log ? g[k] - vexp<T>(yp[k]) * s[i] : yp[k] * (g[k] - s[i]);
      }
    }
  });
}

}  // namespace opt

// ==== dispatch ================================================================================================

void reduce(ReduceOp op, int dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::reduce<T> : opt::reduce<T>)(op, static_cast<const T*>(x),
                                                                     static_cast<T*>(out), outer, n, inner));
}

void argmax(int dtype, const void* x, int32_t* out, int64_t outer, int64_t n, int64_t inner) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::argmax<T> : opt::argmax<T>)(static_cast<const T*>(x), out, outer, n, inner));
}

void softmax(int dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::softmax<T> : opt::softmax<T>)(static_cast<const T*>(x), static_cast<T*>(y),
                                                                       outer, n, inner, log));
}

void softmax_backward(int dtype, const void* y, const void* gy, void* gx, int64_t outer, int64_t n, int64_t inner,
                      bool log) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::softmax_backward<T> : opt::softmax_backward<T>)(
                                 static_cast<const T*>(y), static_cast<const T*>(gy), static_cast<T*>(gx), outer, n,
                                 inner, log));
}

}  // namespace pydl

// ==== JNI =====================================================================================================

using namespace pydl;

/// Validates [outer, n, inner] and returns outer*n*inner.
static int64_t check_3d(int64_t outer, int64_t n, int64_t inner) {
  check_count(outer, "outer");
  check_count(n, "n");
  check_count(inner, "inner");
  int64_t t, u;
  if (__builtin_mul_overflow(outer, n, &t) || __builtin_mul_overflow(t, inner, &t) ||
      __builtin_mul_overflow(outer, inner, &u))
    fail("outer*n*inner overflows (%" PRId64 " x %" PRId64 " x %" PRId64 ")", outer, n, inner);
  return t;
}

extern "C" {

JNIEXPORT jobjectArray JNICALL Java_org_pydl_jni_NativeOps_reduceOpNames(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("reduceOpNames")
  return string_array(env, kReduceOpNames, static_cast<int>(ReduceOp::kCount));
  PYDL_JNI_END(env, nullptr)
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_reduce(JNIEnv* env, jclass, jint op, jint dtype, jlong x,
                                                          jlong out, jlong outer, jlong n, jlong inner) {
  PYDL_JNI_BEGIN("reduce")
  if (op < 0 || op >= static_cast<int>(ReduceOp::kCount))
    fail("unknown reduce op id %d (valid: 0..%d)", op, static_cast<int>(ReduceOp::kCount) - 1);
  check_float_dtype(dtype);
  int64_t total = check_3d(outer, n, inner);
  if (n == 0 && op != static_cast<int>(ReduceOp::kSum) && outer * inner > 0)
    fail("%s over an empty axis (n = 0) is undefined (n must be >= 1)", kReduceOpNames[op]);
  check_elems(x, total, dtype, "x");
  check_elems(out, outer * inner, dtype, "out");
  if (outer * inner == 0) return;
  reduce(static_cast<ReduceOp>(op), dtype, as_ptr<const void>(x), as_ptr<void>(out), outer, n, inner);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_argmax(JNIEnv* env, jclass, jint dtype, jlong x, jlong outIdx,
                                                          jlong outer, jlong n, jlong inner) {
  PYDL_JNI_BEGIN("argmax")
  check_float_dtype(dtype);
  int64_t total = check_3d(outer, n, inner);
  if (n == 0 && outer * inner > 0) fail("argmax over an empty axis (n = 0) is undefined (n must be >= 1)");
  if (n > INT32_MAX) fail("n = %" PRId64 " does not fit an int32 index", n);
  check_elems(x, total, dtype, "x");
  check_elems(outIdx, outer * inner, kInt32, "outIdx");
  if (outer * inner == 0) return;
  argmax(dtype, as_ptr<const void>(x), as_ptr<int32_t>(outIdx), outer, n, inner);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_softmax(JNIEnv* env, jclass, jint dtype, jlong x, jlong y,
                                                           jlong outer, jlong n, jlong inner, jboolean log) {
  PYDL_JNI_BEGIN("softmax")
  check_float_dtype(dtype);
  int64_t total = check_3d(outer, n, inner);
  check_elems(x, total, dtype, "x");
  check_elems(y, total, dtype, "y");
  if (total == 0) return;
  softmax(dtype, as_ptr<const void>(x), as_ptr<void>(y), outer, n, inner, log == JNI_TRUE);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_softmaxBackward(JNIEnv* env, jclass, jint dtype, jlong y,
                                                                   jlong gy, jlong gx, jlong outer, jlong n,
                                                                   jlong inner, jboolean log) {
  PYDL_JNI_BEGIN("softmaxBackward")
  check_float_dtype(dtype);
  int64_t total = check_3d(outer, n, inner);
  check_elems(y, total, dtype, "y");
  check_elems(gy, total, dtype, "gy");
  check_elems(gx, total, dtype, "gx");
  if (total == 0) return;
  softmax_backward(dtype, as_ptr<const void>(y), as_ptr<const void>(gy), as_ptr<void>(gx), outer, n, inner,
                   log == JNI_TRUE);
  PYDL_JNI_END(env, )
}

}  // extern "C"
