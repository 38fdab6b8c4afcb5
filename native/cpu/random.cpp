// Counter-based random numbers: every value is a pure function of (seed, index), so results do not depend on the
// thread count or on how the range is split. Generator: splitmix64 finaliser over key(seed, stream) + i * golden.
#include <cinttypes>
#include <cmath>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {

namespace {
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
/// Per-(seed, stream) key; streams keep dropout/uniform/normal's two uniforms independent.
inline uint64_t make_key(uint64_t seed, uint64_t stream) { return mix64(seed ^ mix64(stream * kGolden + 1)); }
inline uint64_t bits(uint64_t key, int64_t i) { return mix64(key + (static_cast<uint64_t>(i) + 1) * kGolden); }
/// Uniform in [0, 1) with 53 random bits.
inline double u53(uint64_t key, int64_t i) { return static_cast<double>(bits(key, i) >> 11) * 0x1.0p-53; }
/// Uniform in (0, 1] with 53 random bits (safe for log).
inline double u53_open0(uint64_t key, int64_t i) {
  return static_cast<double>((bits(key, i) >> 11) + 1) * 0x1.0p-53;
}
/// Uniform in [0, 1) with 24 random bits (exactly representable as float).
inline double u24(uint64_t key, int64_t i) { return static_cast<double>(bits(key, i) >> 40) * 0x1.0p-24; }

constexpr uint64_t kStreamDropout = 1, kStreamUniform = 2, kStreamNormal1 = 3, kStreamNormal2 = 4;
constexpr double kTwoPi = 6.283185307179586476925286766559;

template <class T>
inline T uniform_value(uint64_t key, int64_t i, double low, double span) {
  return static_cast<T>(low + span * (sizeof(T) == 4 ? u24(key, i) : u53(key, i)));
}
inline double normal_value(uint64_t k1, uint64_t k2, int64_t i) {
  return std::sqrt(-2.0 * std::log(u53_open0(k1, i))) * std::cos(kTwoPi * u53(k2, i));
}
}  // namespace

// ==== reference ===============================================================================================

namespace ref {
template <class T>
void dropout_mask(T* mask, int64_t n, double rate, uint64_t seed) {
  const uint64_t key = make_key(seed, kStreamDropout);
  for (int64_t i = 0; i < n; ++i) mask[i] = u53(key, i) >= rate ? static_cast<T>(1.0 / (1.0 - rate)) : T(0);
}
template <class T>
void uniform(T* out, int64_t n, double low, double high, uint64_t seed) {
  const uint64_t key = make_key(seed, kStreamUniform);
  for (int64_t i = 0; i < n; ++i) out[i] = uniform_value<T>(key, i, low, high - low);
}
template <class T>
void normal(T* out, int64_t n, double mean, double std, uint64_t seed) {
  const uint64_t k1 = make_key(seed, kStreamNormal1), k2 = make_key(seed, kStreamNormal2);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(mean + std * normal_value(k1, k2, i));
}
}  // namespace ref

// ==== optimised: same values, split across threads ============================================================

namespace opt {
template <class T>
void dropout_mask(T* mask, int64_t n, double rate, uint64_t seed) {
  const uint64_t key = make_key(seed, kStreamDropout);
  const T keep = static_cast<T>(1.0 / (1.0 - rate));
  parallel_for(n, kParallelThreshold / 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) mask[i] = u53(key, i) >= rate ? keep : T(0);
  });
}
template <class T>
void uniform(T* out, int64_t n, double low, double high, uint64_t seed) {
  const uint64_t key = make_key(seed, kStreamUniform);
  const double span = high - low;
  parallel_for(n, kParallelThreshold / 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = uniform_value<T>(key, i, low, span);
  });
}
template <class T>
void normal(T* out, int64_t n, double mean, double std, uint64_t seed) {
  const uint64_t k1 = make_key(seed, kStreamNormal1), k2 = make_key(seed, kStreamNormal2);
  parallel_for(n, kParallelThreshold / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = static_cast<T>(mean + std * normal_value(k1, k2, i));
  });
}
}  // namespace opt

// ==== dispatch ================================================================================================

void dropout_mask(int dtype, void* mask, int64_t n, double rate, uint64_t seed) {
  const bool r = reference_mode();
  if (dtype == kFloat32) r ? ref::dropout_mask(static_cast<float*>(mask), n, rate, seed)
                           : opt::dropout_mask(static_cast<float*>(mask), n, rate, seed);
  else r ? ref::dropout_mask(static_cast<double*>(mask), n, rate, seed)
         : opt::dropout_mask(static_cast<double*>(mask), n, rate, seed);
}

void uniform(int dtype, void* out, int64_t n, double low, double high, uint64_t seed) {
  const bool r = reference_mode();
  if (dtype == kFloat32) r ? ref::uniform(static_cast<float*>(out), n, low, high, seed)
                           : opt::uniform(static_cast<float*>(out), n, low, high, seed);
  else r ? ref::uniform(static_cast<double*>(out), n, low, high, seed)
         : opt::uniform(static_cast<double*>(out), n, low, high, seed);
}

void normal(int dtype, void* out, int64_t n, double mean, double std, uint64_t seed) {
  const bool r = reference_mode();
  if (dtype == kFloat32) r ? ref::normal(static_cast<float*>(out), n, mean, std, seed)
                           : opt::normal(static_cast<float*>(out), n, mean, std, seed);
  else r ? ref::normal(static_cast<double*>(out), n, mean, std, seed)
         : opt::normal(static_cast<double*>(out), n, mean, std, seed);
}

}  // namespace pydl

// ==== JNI =====================================================================================================

using namespace pydl;

extern "C" {

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_dropoutMask(JNIEnv* env, jclass, jint dtype, jlong mask, jlong n,
                                                               jdouble rate, jlong seed) {
  PYDL_JNI_BEGIN("dropoutMask")
  check_float_dtype(dtype);
  check_count(n, "n");
  if (!(rate >= 0.0 && rate < 1.0)) fail("rate = %g is invalid (valid: 0 <= rate < 1)", rate);
  check_elems(mask, n, dtype, "mask");
  if (n == 0) return;
  dropout_mask(dtype, as_ptr<void>(mask), n, rate, static_cast<uint64_t>(seed));
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_uniform(JNIEnv* env, jclass, jint dtype, jlong out, jlong n,
                                                           jdouble low, jdouble high, jlong seed) {
  PYDL_JNI_BEGIN("uniform")
  check_float_dtype(dtype);
  check_count(n, "n");
  if (!std::isfinite(low) || !std::isfinite(high) || !(low <= high))
    fail("bounds [%g, %g) are invalid (need finite low <= high)", low, high);
  check_elems(out, n, dtype, "out");
  if (n == 0) return;
  uniform(dtype, as_ptr<void>(out), n, low, high, static_cast<uint64_t>(seed));
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_normal(JNIEnv* env, jclass, jint dtype, jlong out, jlong n,
                                                          jdouble mean, jdouble std, jlong seed) {
  PYDL_JNI_BEGIN("normal")
  check_float_dtype(dtype);
  check_count(n, "n");
  if (!std::isfinite(mean) || !std::isfinite(std) || std < 0)
    fail("mean = %g, std = %g are invalid (need finite mean and std >= 0)", mean, std);
  check_elems(out, n, dtype, "out");
  if (n == 0) return;
  normal(dtype, as_ptr<void>(out), n, mean, std, static_cast<uint64_t>(seed));
  PYDL_JNI_END(env, )
}

}  // extern "C"
