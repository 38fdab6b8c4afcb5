// Batched row-major GEMM: OpenBLAS (scipy-openblas32, prefixed symbols) or a plain triple-loop reference.
#include <cblas.h>

#include <cinttypes>
#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <omp.h>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {

namespace {
/// C = beta * C over an m x n matrix with leading dimension ldc (beta == 0 clears, so NaN/Inf in C don't survive).
template <class T>
void scale_c(T* c, int64_t m, int64_t n, int64_t ldc, double beta) {
  if (beta == 1.0) return;
  const T b = static_cast<T>(beta);
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == 0.0) {
      for (int64_t j = 0; j < n; ++j) row[j] = T(0);
    } else {
      for (int64_t j = 0; j < n; ++j) row[j] *= b;
    }
  }
}
}  // namespace

// ==== reference ===============================================================================================

namespace ref {
template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a, int64_t lda, int64_t sa,
          const T* b, int64_t ldb, int64_t sb, double beta, T* c, int64_t ldc, int64_t sc, int64_t batch) {
  for (int64_t bi = 0; bi < batch; ++bi) {
    const T* A = a + bi * sa;
    const T* B = b + bi * sb;
    T* C = c + bi * sc;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) {
          double av = ta ? A[p * lda + i] : A[i * lda + p];
          double bv = tb ? B[j * ldb + p] : B[p * ldb + j];
          acc += av * bv;
        }
        double prev = beta == 0.0 ? 0.0 : beta * static_cast<double>(C[i * ldc + j]);
        C[i * ldc + j] = static_cast<T>(alpha * acc + prev);
      }
  }
}
}  // namespace ref

// ==== optimised (OpenBLAS) ====================================================================================

namespace opt {
inline void gemm_call(const float* A, const float* B, float* C, bool ta, bool tb, int m, int n, int k, double alpha,
                      int lda, int ldb, double beta, int ldc) {
  scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k,
                    static_cast<float>(alpha), A, lda, B, ldb, static_cast<float>(beta), C, ldc);
}
inline void gemm_call(const double* A, const double* B, double* C, bool ta, bool tb, int m, int n, int k,
                      double alpha, int lda, int ldb, double beta, int ldc) {
  scipy_cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, A,
                    lda, B, ldb, beta, C, ldc);
}

template <class T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a, int64_t lda, int64_t sa,
          const T* b, int64_t ldb, int64_t sb, double beta, T* c, int64_t ldc, int64_t sc, int64_t batch) {
  if (m == 0 || n == 0) return;
  if (k == 0 || alpha == 0.0) {  // no product: C = beta * C
    for (int64_t bi = 0; bi < batch; ++bi) scale_c(c + bi * sc, m, n, ldc, beta);
    return;
  }
  for (int64_t bi = 0; bi < batch; ++bi) {
    gemm_call(a + bi * sa, b + bi * sb, c + bi * sc, ta, tb, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, static_cast<int>(lda), static_cast<int>(ldb), beta, static_cast<int>(ldc));
  }
}
}  // namespace opt

// ==== dispatch ================================================================================================

void gemm(int dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const void* a, int64_t lda,
          int64_t sa, const void* b, int64_t ldb, int64_t sb, double beta, void* c, int64_t ldc, int64_t sc,
          int64_t batch) {
  const bool r = reference_mode();
  if (dtype == kFloat32) {
    auto A = static_cast<const float*>(a);
    auto B = static_cast<const float*>(b);
    auto C = static_cast<float*>(c);
    r ? ref::gemm(ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch)
      : opt::gemm(ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
  } else {
    auto A = static_cast<const double*>(a);
    auto B = static_cast<const double*>(b);
    auto C = static_cast<double*>(c);
    r ? ref::gemm(ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch)
      : opt::gemm(ta, tb, m, n, k, alpha, A, lda, sa, B, ldb, sb, beta, C, ldc, sc, batch);
  }
}

}  // namespace pydl

// ==== BLAS threading ==========================================================================================
// OpenBLAS (pthreads build) keeps its own thread pool. Next to our OpenMP pool that oversubscribes the cores: both
// pools spin-wait after work, so on a 2-core machine a GEMM right after an OpenMP kernel fights the idle-spinning
// OpenMP workers. OpenBLAS >= 0.3.27 can run its parallel jobs through a caller-provided callback instead; we run
// them on the OpenMP pool, so one set of threads does all the work.

namespace {
using BlasJob = void (*)(int, void*, int);

void run_jobs_on_std_threads(BlasJob job, int numjobs, size_t elsize, char* data, int arg) {
  // Jobs of a threaded level-3 call wait on each other, so they must all run concurrently.
  // Called from OpenBLAS's C code: nothing may escape. If threads cannot be created there is no safe way on.
  try {
    std::vector<std::thread> ts;
    ts.reserve(static_cast<size_t>(numjobs));
    for (int i = 1; i < numjobs; ++i) ts.emplace_back([=] { job(i, data + static_cast<size_t>(i) * elsize, arg); });
    job(0, data, arg);
    for (auto& t : ts) t.join();
  } catch (...) {
    std::fprintf(stderr, "pydl: cannot start BLAS worker threads\n");
    std::abort();
  }
}

void blas_threads_callback(int /*sync*/, openblas_dojob_callback dojob, int numjobs, size_t elsize, void* jobdata,
                           int arg) {
  BlasJob job = reinterpret_cast<BlasJob>(dojob);
  char* data = static_cast<char*>(jobdata);
  if (numjobs <= 1) {
    if (numjobs == 1) job(0, data, arg);
    return;
  }
  if (omp_in_parallel() || omp_get_dynamic()) {  // the team could be smaller than numjobs
    run_jobs_on_std_threads(job, numjobs, elsize, data, arg);
    return;
  }
  int got = 0;
#pragma omp parallel num_threads(numjobs)
  {
    int t = omp_get_thread_num();
    if (t == 0) got = omp_get_num_threads();
#pragma omp barrier
    if (got == numjobs) job(t, data + static_cast<size_t>(t) * elsize, arg);
  }
  if (got != numjobs) run_jobs_on_std_threads(job, numjobs, elsize, data, arg);
}
}  // namespace

void pydl::install_blas_threading() {
  const char* own = std::getenv("PYDL_BLAS_OWN_THREADS");
  if (own == nullptr || own[0] == '\0' || own[0] == '0') scipy_openblas_set_threads_callback_function(blas_threads_callback);
  scipy_openblas_set_num_threads(num_threads());
}

// ==== JNI =====================================================================================================

using namespace pydl;

namespace {
/// Checks one batched matrix operand: `rows` x `cols` stored row-major with leading dimension ld (>= cols),
/// `batch` copies `stride` elements apart. Returns nothing; throws ArgumentError on any problem.
void check_matrix(int64_t addr, int dtype, int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch,
                  const char* what, const char* ldname, const char* stridename) {
  char label[32];
  std::snprintf(label, sizeof label, "operand %s", what);
  if (stride < 0) fail("%s = %" PRId64 " is negative (must be >= 0)", stridename, stride);
  if (rows == 0 || cols == 0 || batch == 0) {  // not read or written
    check_range(addr, 0, label);
    return;
  }
  if (ld < std::max<int64_t>(1, cols))
    fail("%s = %" PRId64 " is too small: operand %s has %" PRId64 " columns (need %s >= max(1, %" PRId64 "))", ldname,
         ld, what, cols, ldname, cols);
  if (ld > INT_MAX) fail("%s = %" PRId64 " exceeds the 32-bit BLAS limit %d", ldname, ld, INT_MAX);
  int64_t extent, t;  // elements: (batch-1)*stride + (rows-1)*ld + cols
  if (__builtin_mul_overflow(batch - 1, stride, &extent) || __builtin_mul_overflow(rows - 1, ld, &t) ||
      __builtin_add_overflow(extent, t, &extent) || __builtin_add_overflow(extent, cols, &extent))
    fail("operand %s: extent overflows", what);
  check_elems(addr, extent, dtype, label);
}
}  // namespace

extern "C" {

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_gemm(JNIEnv* env, jclass, jint dtype, jboolean transA,
                                                        jboolean transB, jlong m, jlong n, jlong k, jdouble alpha,
                                                        jlong a, jlong lda, jlong strideA, jlong b, jlong ldb,
                                                        jlong strideB, jdouble beta, jlong c, jlong ldc,
                                                        jlong strideC, jlong batch) {
  PYDL_JNI_BEGIN("gemm")
  check_float_dtype(dtype);
  check_count(m, "m");
  check_count(n, "n");
  check_count(k, "k");
  check_count(batch, "batch");
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
    fail("m, n, k = %" PRId64 ", %" PRId64 ", %" PRId64 " exceed the 32-bit BLAS limit %d", m, n, k, INT_MAX);
  const bool ta = transA == JNI_TRUE, tb = transB == JNI_TRUE;
  // op(A) is m x k: A is stored m x k, or k x m when transposed; likewise B.
  const bool touch_ab = m > 0 && n > 0 && k > 0;
  check_matrix(a, dtype, touch_ab ? (ta ? k : m) : 0, ta ? m : k, lda, strideA, batch, "A", "lda", "strideA");
  check_matrix(b, dtype, touch_ab ? (tb ? n : k) : 0, tb ? k : n, ldb, strideB, batch, "B", "ldb", "strideB");
  check_matrix(c, dtype, m, n, ldc, strideC, batch, "C", "ldc", "strideC");
  if (batch == 0 || m == 0 || n == 0) return;
  gemm(dtype, ta, tb, m, n, k, alpha, as_ptr<const void>(a), lda, strideA, as_ptr<const void>(b), ldb, strideB, beta,
       as_ptr<void>(c), ldc, strideC, batch);
  PYDL_JNI_END(env, )
}

}  // extern "C"
