// Library-wide state: version string, reference-mode flag, thread count.
#include <cblas.h>
#include <omp.h>

#include <atomic>
#include <string>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"

#ifndef PYDL_VERSION
#define PYDL_VERSION "0.0.0"
#endif

namespace pydl {

namespace {
constexpr int kMaxThreads = 1024;  // libgomp aborts the process when it cannot create a thread
std::atomic<bool> g_reference{false};
int default_threads() {
  int n = omp_get_num_procs();
  return n > 0 ? n : 1;
}
std::atomic<int> g_threads{default_threads()};
}  // namespace

bool reference_mode() { return g_reference.load(std::memory_order_relaxed); }
void set_reference_mode(bool on) { g_reference.store(on, std::memory_order_relaxed); }
int num_threads() { return g_threads.load(std::memory_order_relaxed); }
void set_num_threads(int n) {
  if (n <= 0 || n > kMaxThreads) fail("thread count must be in [1, %d], got %d", kMaxThreads, n);
  g_threads.store(n, std::memory_order_relaxed);
  omp_set_num_threads(n);  // for the calling thread; kernels pass num_threads() explicitly anyway
  scipy_openblas_set_num_threads(n);
}

static std::string isa_name() {
#if defined(__AVX512F__)
  return "avx512";
#elif defined(__AVX2__)
  return "avx2";
#elif defined(__AVX__)
  return "avx";
#elif defined(__SSE4_2__)
  return "sse4.2";
#elif defined(__aarch64__)
  return "neon";
#else
  return "generic";
#endif
}

}  // namespace pydl

using namespace pydl;

extern "C" {

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM*, void*) {
  try {
    install_blas_threading();
  } catch (...) {
    // keep OpenBLAS's defaults; never fail the load for this
  }
  return JNI_VERSION_1_8;
}

JNIEXPORT jstring JNICALL Java_org_pydl_jni_NativeOps_version(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("version")
  std::string openblas = scipy_openblas_get_config();
  std::string v = std::string("pydl-native ") + PYDL_VERSION + " (" + openblas + ", " + isa_name() + ", openmp " +
                  std::to_string(_OPENMP) + ")";
  jstring s = env->NewStringUTF(v.c_str());
  if (s == nullptr) throw JavaPending{};
  return s;
  PYDL_JNI_END(env, nullptr)
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_setReference(JNIEnv* env, jclass, jboolean reference) {
  PYDL_JNI_BEGIN("setReference")
  set_reference_mode(reference == JNI_TRUE);
  PYDL_JNI_END(env, )
}

JNIEXPORT jboolean JNICALL Java_org_pydl_jni_NativeOps_isReference(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("isReference")
  return reference_mode() ? JNI_TRUE : JNI_FALSE;
  PYDL_JNI_END(env, JNI_FALSE)
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_setNumThreads(JNIEnv* env, jclass, jint n) {
  PYDL_JNI_BEGIN("setNumThreads")
  set_num_threads(n);
  PYDL_JNI_END(env, )
}

JNIEXPORT jint JNICALL Java_org_pydl_jni_NativeOps_getNumThreads(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("getNumThreads")
  return num_threads();
  PYDL_JNI_END(env, 0)
}


}  // extern "C"
