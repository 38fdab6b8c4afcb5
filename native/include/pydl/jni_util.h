// JNI glue shared by every entry point: C++ exception -> Java exception translation and argument readers.
//
//   extern "C" JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_foo(JNIEnv* env, jclass, ...) {
//     PYDL_JNI_BEGIN("foo")
//       ... may throw pydl::ArgumentError / std::bad_alloc / anything ...
//     PYDL_JNI_END(env, )          // or PYDL_JNI_END(env, 0) for a non-void entry point
//   }
//
// pydl::ArgumentError -> java.lang.IllegalArgumentException, std::bad_alloc -> java.lang.OutOfMemoryError,
// anything else -> java.lang.RuntimeException. Messages are prefixed with the entry point name. When a JNI call
// itself left a Java exception pending, the helpers throw pydl::JavaPending, and the wrapper returns at once
// without touching JNI again.
#pragma once

#include <jni.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>

namespace pydl {

/// Bad argument coming from Java: becomes IllegalArgumentException.
class ArgumentError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A Java exception is already pending in the current JNIEnv: return to Java without further JNI calls.
struct JavaPending {};

inline std::string vformat(const char* fmt, va_list ap) {
  char buf[512];
  va_list ap2;
  va_copy(ap2, ap);
  int len = std::vsnprintf(buf, sizeof buf, fmt, ap);
  if (len < 0) { va_end(ap2); return std::string(fmt); }
  if (static_cast<size_t>(len) < sizeof buf) { va_end(ap2); return std::string(buf, static_cast<size_t>(len)); }
  std::string s(static_cast<size_t>(len) + 1, '\0');
  std::vsnprintf(&s[0], s.size(), fmt, ap2);
  va_end(ap2);
  s.resize(static_cast<size_t>(len));
  return s;
}

inline std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string format(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  return s;
}

/// Throws ArgumentError with a printf-style message.
[[noreturn]] inline void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] inline void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::string s = vformat(fmt, ap);
  va_end(ap);
  throw ArgumentError(s);
}

/// Raises a Java exception of class `cls` with message "fn: msg". Never throws; never called with one pending.
inline void throw_java(JNIEnv* env, const char* cls, const char* fn, const char* msg) noexcept {
  if (env->ExceptionCheck()) return;  // keep the first one
  std::string text;
  try {
    text = std::string(fn) + ": " + msg;
  } catch (...) {
    text.clear();
  }
  jclass c = env->FindClass(cls);
  if (c == nullptr) return;  // FindClass left NoClassDefFoundError/OOM pending
  env->ThrowNew(c, text.empty() ? msg : text.c_str());
  env->DeleteLocalRef(c);
}

/// Maximum rank of shapes/strides passed through JNI.
constexpr int kMaxDims = 16;

/// A small long[] copied onto the stack.
struct Dims {
  int n = 0;
  int64_t v[kMaxDims];
  int64_t operator[](int i) const { return v[i]; }
};

/// Reads a long[] (shape or strides) with null/length checks. `expected` < 0: any length up to kMaxDims.
inline Dims read_dims(JNIEnv* env, jlongArray arr, const char* what, int expected = -1) {
  if (arr == nullptr) fail("%s is null", what);
  jsize len = env->GetArrayLength(arr);
  if (env->ExceptionCheck()) throw JavaPending{};
  if (expected >= 0 && len != expected)
    fail("%s has length %d but the shape has %d dimensions (lengths must match)", what, static_cast<int>(len),
         expected);
  if (len > kMaxDims) fail("%s has %d dimensions; at most %d are supported", what, static_cast<int>(len), kMaxDims);
  Dims d;
  d.n = static_cast<int>(len);
  if (len > 0) {
    env->GetLongArrayRegion(arr, 0, len, reinterpret_cast<jlong*>(d.v));
    if (env->ExceptionCheck()) throw JavaPending{};
  }
  return d;
}

/// A Java String[] of the given C strings (op tables).
inline jobjectArray string_array(JNIEnv* env, const char* const* names, int count) {
  jclass str = env->FindClass("java/lang/String");
  if (str == nullptr) throw JavaPending{};
  jobjectArray arr = env->NewObjectArray(count, str, nullptr);
  env->DeleteLocalRef(str);
  if (arr == nullptr) throw JavaPending{};
  for (int i = 0; i < count; ++i) {
    jstring s = env->NewStringUTF(names[i]);
    if (s == nullptr) throw JavaPending{};
    env->SetObjectArrayElement(arr, i, s);
    env->DeleteLocalRef(s);
    if (env->ExceptionCheck()) throw JavaPending{};
  }
  return arr;
}

}  // namespace pydl

#define PYDL_JNI_BEGIN(name)                     \
  static constexpr const char* pydl_fn_ = name; \
  try {
#define PYDL_JNI_END(env, retval)                                                                    \
  }                                                                                                  \
  catch (const ::pydl::ArgumentError& e_) {                                                          \
    ::pydl::throw_java(env, "java/lang/IllegalArgumentException", pydl_fn_, e_.what());              \
  }                                                                                                  \
  catch (const ::pydl::JavaPending&) {                                                               \
  }                                                                                                  \
  catch (const std::bad_alloc&) {                                                                    \
    ::pydl::throw_java(env, "java/lang/OutOfMemoryError", pydl_fn_, "native memory allocation failed"); \
  }                                                                                                  \
  catch (const std::exception& e_) {                                                                 \
    ::pydl::throw_java(env, "java/lang/RuntimeException", pydl_fn_, e_.what());                      \
  }                                                                                                  \
  catch (...) {                                                                                      \
    ::pydl::throw_java(env, "java/lang/RuntimeException", pydl_fn_, "unknown native error");         \
  }                                                                                                  \
  return retval;
