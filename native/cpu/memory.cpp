// Memory: aligned allocation with a live-block registry, range checks, fill / copy / strided copy / cast.
#include "pydl/memory.h"

#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <list>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/parallel.h"

namespace pydl {

// ==== dtype / argument helpers ================================================================================

int64_t dtype_size(int dtype) {
  switch (dtype) {
    case kFloat32: return 4;
    case kFloat64: return 8;
    case kInt32: return 4;
    default: fail("unknown dtype code %d (valid: 0 = float32, 1 = float64, 2 = int32)", dtype);
  }
}

const char* dtype_name(int dtype) {
  switch (dtype) {
    case kFloat32: return "float32";
    case kFloat64: return "float64";
    case kInt32: return "int32";
    default: return "unknown";
  }
}

void check_dtype(int dtype) { (void)dtype_size(dtype); }

void check_float_dtype(int dtype) {
  if (dtype == kFloat32 || dtype == kFloat64) return;
  if (dtype == kInt32) fail("dtype int32 (code 2) is not supported by this float kernel (valid: 0 = float32, 1 = float64)");
  fail("unknown dtype code %d (valid for this float kernel: 0 = float32, 1 = float64)", dtype);
}

void check_count(int64_t n, const char* what) {
  if (n < 0) fail("%s must be >= 0, got %" PRId64, what, n);
}

// ==== registry and block cache ================================================================================
//
// Live blocks are recorded in g_blocks (base -> requested bytes) for the range checks. A freed block does not go
// back to the C library at once: it joins a cache of recently freed blocks, one free list per size class (classes
// are 1/8 of a power of two apart above 1 KiB, so a block serves requests up to 12.5% smaller). A training step
// allocates the same sizes every step, so after the first step its temporaries come from the cache instead of
// fresh pages (page faults and zeroing by the kernel, munmap of large blocks). The cache is bounded
// (PYDL_ALLOC_CACHE_MB, default min(256 MiB, RAM / 8); 0 turns it off): when it would exceed the bound, the least
// recently freed blocks are released. A cached block is not live: check_range rejects it like any freed address.

namespace {
std::shared_mutex g_mu;  // guards everything below
std::map<uintptr_t, int64_t> g_blocks;  // base address -> requested size in bytes
int64_t g_allocated = 0;
constexpr int64_t kAlign = 64;
constexpr int64_t kMaxAlloc = int64_t{1} << 56;

struct Cached {
  void* ptr;
  int64_t cap;  // size class (bytes actually allocated)
};
std::list<Cached> g_lru;  // cached blocks, most recently freed first
std::unordered_map<int64_t, std::vector<std::list<Cached>::iterator>> g_free;  // class -> its blocks, newest last
int64_t g_cached = 0;

int64_t default_cache_limit() {
  int64_t limit = int64_t{256} << 20;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) limit = std::min(limit, static_cast<int64_t>(pages) * page / 8);
  if (const char* env = std::getenv("PYDL_ALLOC_CACHE_MB")) {
    char* end = nullptr;
    long long mb = std::strtoll(env, &end, 10);
    if (end != env && *end == '\0' && mb >= 0 && mb < (int64_t{1} << 40)) limit = static_cast<int64_t>(mb) << 20;
  }
  return limit;
}
const int64_t g_cache_limit = default_cache_limit();

/// Bytes allocated for a request: 64-byte multiples up to 1 KiB, then 8 classes per power of two.
int64_t size_class(int64_t bytes) {
  if (bytes <= 1024) return std::max<int64_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  int64_t p = int64_t{1} << (63 - __builtin_clzll(static_cast<unsigned long long>(bytes)));
  int64_t step = p / 8;
  return (bytes + step - 1) / step * step;
}

/// A cached block of class `cap`, or null (caller holds g_mu).
void* cache_take(int64_t cap) {
  auto it = g_free.find(cap);
  if (it == g_free.end() || it->second.empty()) return nullptr;
  auto node = it->second.back();
  it->second.pop_back();
  void* p = node->ptr;
  g_lru.erase(node);
  g_cached -= cap;
  return p;
}

/// Removes the least recently freed block from the cache and returns it (caller holds g_mu, cache non-empty).
void* cache_evict_oldest() {
  auto node = std::prev(g_lru.end());
  auto& vec = g_free[node->cap];
  vec.erase(vec.begin());  // the class's oldest block is the globally oldest of that class
  void* p = node->ptr;
  g_cached -= node->cap;
  g_lru.erase(node);
  return p;
}
}  // namespace

void* mem_alloc(int64_t bytes) {
  if (bytes < 0) fail("bytes must be >= 0, got %" PRId64, bytes);
  if (bytes > kMaxAlloc) throw std::bad_alloc();
  int64_t cap = size_class(bytes);
  void* p = nullptr;
  {
    std::unique_lock<std::shared_mutex> lock(g_mu);
    p = cache_take(cap);
    if (p != nullptr) {
      g_blocks.emplace(reinterpret_cast<uintptr_t>(p), bytes);  // cannot fail: the block was removed from the cache
      g_allocated += bytes;
      return p;
    }
  }
  p = std::aligned_alloc(static_cast<size_t>(kAlign), static_cast<size_t>(cap));
  if (p == nullptr) {
    mem_trim();  // cached blocks may be what is missing
    p = std::aligned_alloc(static_cast<size_t>(kAlign), static_cast<size_t>(cap));
    if (p == nullptr) throw std::bad_alloc();
  }
  std::unique_lock<std::shared_mutex> lock(g_mu);
  try {
    g_blocks.emplace(reinterpret_cast<uintptr_t>(p), bytes);
  } catch (...) {
    std::free(p);
    throw;
  }
  g_allocated += bytes;
  return p;
}

void mem_free(int64_t address) {
  if (address == 0) fail("cannot free address 0 (null pointer)");
  void* p = reinterpret_cast<void*>(static_cast<uintptr_t>(address));
  void* release[8];
  int n_release = 0;
  {
    std::unique_lock<std::shared_mutex> lock(g_mu);
    auto it = g_blocks.find(static_cast<uintptr_t>(address));
    if (it == g_blocks.end())
      fail("address 0x%" PRIx64 " is not the start of a live pydl allocation (already freed, or not from malloc)",
           static_cast<uint64_t>(address));
    int64_t bytes = it->second;
    g_allocated -= bytes;
    g_blocks.erase(it);
    int64_t cap = size_class(bytes);
    if (cap <= g_cache_limit / 2) {
      try {
        auto& vec = g_free[cap];
        vec.reserve(vec.size() + 1);
        g_lru.push_front(Cached{p, cap});
        vec.push_back(g_lru.begin());
        g_cached += cap;
        p = nullptr;
      } catch (const std::bad_alloc&) {  // no room for bookkeeping: release the block instead
      }
      while (g_cached > g_cache_limit && n_release < 8) release[n_release++] = cache_evict_oldest();
    }
  }
  if (p != nullptr) std::free(p);
  for (int i = 0; i < n_release; ++i) std::free(release[i]);
}

int64_t mem_trim() {
  std::vector<void*> all;
  int64_t freed;
  {
    std::unique_lock<std::shared_mutex> lock(g_mu);
    freed = g_cached;
    all.reserve(g_lru.size());
    for (const Cached& c : g_lru) all.push_back(c.ptr);
    g_lru.clear();
    g_free.clear();
    g_cached = 0;
  }
  for (void* p : all) std::free(p);
  return freed;
}

int64_t mem_cached_bytes() {
  std::shared_lock<std::shared_mutex> lock(g_mu);
  return g_cached;
}

int64_t mem_allocated_bytes() {
  std::shared_lock<std::shared_mutex> lock(g_mu);
  return g_allocated;
}

void check_range(int64_t addr, int64_t bytes, const char* what) {
  if (addr == 0) fail("%s is a null pointer (address 0)", what);
  if (bytes < 0) fail("%s has a negative byte size %" PRId64, what, bytes);
  uintptr_t a = static_cast<uintptr_t>(addr);
  uintptr_t end;
  bool ok = false;
  if (!__builtin_add_overflow(a, static_cast<uintptr_t>(bytes), &end)) {
    std::shared_lock<std::shared_mutex> lock(g_mu);
    auto it = g_blocks.upper_bound(a);
    if (it != g_blocks.begin()) {
      --it;
      uintptr_t base = it->first, limit = it->first + static_cast<uintptr_t>(it->second);
      ok = a >= base && end <= limit && a <= limit;
    }
  }
  if (!ok)
    fail("%s range [0x%" PRIx64 ", +%" PRId64 " bytes) is outside any live pydl allocation", what,
         static_cast<uint64_t>(addr), bytes);
}

void check_elems(int64_t addr, int64_t n, int dtype, const char* what) {
  int64_t es = dtype_size(dtype);
  if (n < 0) fail("%s: element count must be >= 0, got %" PRId64, what, n);
  int64_t bytes;
  if (__builtin_mul_overflow(n, es, &bytes)) fail("%s: %" PRId64 " elements overflow the address space", what, n);
  check_range(addr, bytes, what);
}

int64_t shape_numel(const Dims& shape, const char* what) {
  int64_t numel = 1;
  for (int d = 0; d < shape.n; ++d) {
    if (shape[d] < 0) fail("%s: shape[%d] = %" PRId64 " is negative", what, d, shape[d]);
    if (__builtin_mul_overflow(numel, shape[d], &numel)) fail("%s: shape element count overflows", what);
  }
  return numel;
}

void check_strided(int64_t addr, int dtype, const Dims& shape, const Dims& strides, const char* what) {
  int64_t es = dtype_size(dtype);
  if (strides.n != shape.n)
    fail("%s strides have length %d but the shape has %d dimensions (lengths must match)", what, strides.n, shape.n);
  int64_t numel = shape_numel(shape, what);
  int64_t max_off = 0;
  for (int d = 0; d < shape.n; ++d) {
    if (strides[d] < 0)
      fail("%s stride[%d] = %" PRId64 " is negative (strides must be >= 0)", what, d, strides[d]);
    if (shape[d] == 0) continue;
    int64_t t;
    if (__builtin_mul_overflow(shape[d] - 1, strides[d], &t) || __builtin_add_overflow(max_off, t, &max_off))
      fail("%s: strided extent overflows", what);
  }
  if (numel == 0) {
    check_range(addr, 0, what);
    return;
  }
  int64_t bytes;
  if (__builtin_add_overflow(max_off, int64_t{1}, &bytes) || __builtin_mul_overflow(bytes, es, &bytes))
    fail("%s: strided extent overflows", what);
  check_range(addr, bytes, what);
}

// ==== fill ====================================================================================================

namespace ref {
template <class T>
void fill(T* dst, int64_t n, T v) {
  for (int64_t i = 0; i < n; ++i) dst[i] = v;
}
}  // namespace ref

namespace opt {
template <class T>
void fill(T* dst, int64_t n, T v) {
  parallel_for(n, kParallelThreshold * 4, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) dst[i] = v;
  });
}
}  // namespace opt

static int32_t to_int32(double v) {
  // C++ cast from out-of-range double is UB: saturate, NaN -> 0.
  if (!(v == v)) return 0;
  if (v >= 2147483647.0) return INT32_MAX;
  if (v <= -2147483648.0) return INT32_MIN;
  return static_cast<int32_t>(v);
}

void fill(int dtype, void* dst, int64_t n, double value) {
  bool r = reference_mode();
  switch (dtype) {
    case kFloat32: r ? ref::fill(static_cast<float*>(dst), n, static_cast<float>(value))
                     : opt::fill(static_cast<float*>(dst), n, static_cast<float>(value)); break;
    case kFloat64: r ? ref::fill(static_cast<double*>(dst), n, value) : opt::fill(static_cast<double*>(dst), n, value); break;
    default: r ? ref::fill(static_cast<int32_t*>(dst), n, to_int32(value))
               : opt::fill(static_cast<int32_t*>(dst), n, to_int32(value)); break;
  }
}

// ==== copy_strided ============================================================================================

namespace ref {
template <class T>
void copy_strided(const T* src, const int64_t* ss, T* dst, const int64_t* ds, const int64_t* shape, int nd) {
  int64_t numel = 1;
  for (int d = 0; d < nd; ++d) numel *= shape[d];
  for (int64_t i = 0; i < numel; ++i) {
    int64_t r = i, so = 0, dof = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t c = r % shape[d];
      r /= shape[d];
      so += c * ss[d];
      dof += c * ds[d];
    }
    dst[dof] = src[so];
  }
}
}  // namespace ref

namespace opt {
template <class T>
void copy_strided(const T* src, const int64_t* ss, T* dst, const int64_t* ds, const int64_t* shape, int nd) {
  const int64_t* strides[2] = {ds, ss};
  StridedPlan<2> p(shape, strides, nd);
  const int64_t inner = p.inner(), rows = p.rows();
  const int64_t sd = p.st[0][p.ndim - 1], sS = p.st[1][p.ndim - 1];
  if (p.ndim == 1 && sd == 1 && sS == 1) {  // both contiguous
    parallel_for(inner, kParallelThreshold * 4, [&](int64_t b, int64_t e) {
      std::memmove(dst + b, src + b, static_cast<size_t>(e - b) * sizeof(T));
    });
    return;
  }
  if (p.ndim == 2 && sd == 1 && sS == 1 && p.st[0][0] == inner && p.st[1][0] == 0) {
    // one source row repeated into contiguous rows (a bias broadcast to [m, n]): write the first row of each chunk,
    // then double the written part with large copies instead of one small copy per row
    parallel_rows(rows, inner, [&](int64_t r0, int64_t r1) {
      T* d = dst + r0 * inner;
      const size_t total = static_cast<size_t>((r1 - r0) * inner) * sizeof(T);
      size_t done = static_cast<size_t>(inner) * sizeof(T);
      std::memcpy(d, src, done);
      char* base = reinterpret_cast<char*>(d);
      while (done < total) {
        size_t n = std::min(done, total - done);
        std::memcpy(base + done, base, n);
        done += n;
      }
    });
    return;
  }
  parallel_rows(rows, inner, [&](int64_t r0, int64_t r1) {
    p.for_rows(r0, r1, [&](const int64_t* off) {
      T* d = dst + off[0];
      const T* s = src + off[1];
      if (sd == 1 && sS == 1) {
        std::memmove(d, s, static_cast<size_t>(inner) * sizeof(T));
      } else if (sd == 1 && sS == 0) {
        T v = *s;
#pragma omp simd
        for (int64_t i = 0; i < inner; ++i) d[i] = v;
      } else if (sd == 1) {
        for (int64_t i = 0; i < inner; ++i) d[i] = s[i * sS];
      } else {
        for (int64_t i = 0; i < inner; ++i) d[i * sd] = s[i * sS];
      }
    });
  });
}
}  // namespace opt

void copy_strided(int dtype, const void* src, const int64_t* ss, void* dst, const int64_t* ds, const int64_t* shape,
                  int nd) {
  bool r = reference_mode();
  if (dtype == kFloat64) {
    auto s = static_cast<const double*>(src);
    auto d = static_cast<double*>(dst);
    r ? ref::copy_strided(s, ss, d, ds, shape, nd) : opt::copy_strided(s, ss, d, ds, shape, nd);
  } else {  // float32 and int32 are both 4-byte payloads
    auto s = static_cast<const int32_t*>(src);
    auto d = static_cast<int32_t*>(dst);
    r ? ref::copy_strided(s, ss, d, ds, shape, nd) : opt::copy_strided(s, ss, d, ds, shape, nd);
  }
}

// ==== cast ====================================================================================================

template <class D, class S>
static inline D convert(S v) {
  return static_cast<D>(v);
}
template <>
inline int32_t convert<int32_t, float>(float v) {
  return to_int32(v);
}
template <>
inline int32_t convert<int32_t, double>(double v) {
  return to_int32(v);
}

namespace ref {
template <class S, class D>
void cast(const S* s, D* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = convert<D, S>(s[i]);
}
}  // namespace ref

namespace opt {
template <class S, class D>
void cast(const S* s, D* d, int64_t n) {
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
    if constexpr (std::is_same_v<D, int32_t> && !std::is_same_v<S, int32_t>) {
      for (int64_t i = b; i < e; ++i) d[i] = convert<D, S>(s[i]);
    } else {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) d[i] = static_cast<D>(s[i]);
    }
  });
}
}  // namespace opt

template <class S, class D>
static void cast_dispatch(const void* src, void* dst, int64_t n) {
  auto s = static_cast<const S*>(src);
  auto d = static_cast<D*>(dst);
  if (static_cast<const void*>(s) == static_cast<void*>(d) && sizeof(S) != sizeof(D))
    fail("in-place cast between dtypes of different sizes is not supported");
  reference_mode() ? ref::cast(s, d, n) : opt::cast(s, d, n);
}

void cast(int sdt, const void* src, int ddt, void* dst, int64_t n) {
  if (sdt == ddt) {
    std::memmove(dst, src, static_cast<size_t>(n * dtype_size(sdt)));
    return;
  }
  switch (sdt * 3 + ddt) {
    case kFloat32 * 3 + kFloat64: return cast_dispatch<float, double>(src, dst, n);
    case kFloat32 * 3 + kInt32: return cast_dispatch<float, int32_t>(src, dst, n);
    case kFloat64 * 3 + kFloat32: return cast_dispatch<double, float>(src, dst, n);
    case kFloat64 * 3 + kInt32: return cast_dispatch<double, int32_t>(src, dst, n);
    case kInt32 * 3 + kFloat32: return cast_dispatch<int32_t, float>(src, dst, n);
    case kInt32 * 3 + kFloat64: return cast_dispatch<int32_t, double>(src, dst, n);
    default: fail("unsupported cast %d -> %d", sdt, ddt);
  }
}

}  // namespace pydl

// ==== JNI =====================================================================================================

using namespace pydl;

extern "C" {

JNIEXPORT jlong JNICALL Java_org_pydl_jni_NativeOps_malloc(JNIEnv* env, jclass, jlong bytes) {
  PYDL_JNI_BEGIN("malloc")
  return static_cast<jlong>(reinterpret_cast<uintptr_t>(mem_alloc(bytes)));
  PYDL_JNI_END(env, 0)
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_free(JNIEnv* env, jclass, jlong address) {
  PYDL_JNI_BEGIN("free")
  mem_free(address);
  PYDL_JNI_END(env, )
}

JNIEXPORT jlong JNICALL Java_org_pydl_jni_NativeOps_allocatedBytes(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("allocatedBytes")
  return mem_allocated_bytes();
  PYDL_JNI_END(env, 0)
}

JNIEXPORT jlong JNICALL Java_org_pydl_jni_NativeOps_cachedBytes(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("cachedBytes")
  return mem_cached_bytes();
  PYDL_JNI_END(env, 0)
}

JNIEXPORT jlong JNICALL Java_org_pydl_jni_NativeOps_trimCache(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("trimCache")
  return mem_trim();
  PYDL_JNI_END(env, 0)
}

JNIEXPORT jobject JNICALL Java_org_pydl_jni_NativeOps_wrap(JNIEnv* env, jclass, jlong address, jlong bytes) {
  PYDL_JNI_BEGIN("wrap")
  check_count(bytes, "bytes");
  check_range(address, bytes, "buffer");
  jobject buf = env->NewDirectByteBuffer(as_ptr<void>(address), bytes);
  if (buf == nullptr && !env->ExceptionCheck())
    throw std::runtime_error("NewDirectByteBuffer failed (direct buffers unsupported by this JVM?)");
  return buf;
  PYDL_JNI_END(env, nullptr)
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_fill(JNIEnv* env, jclass, jint dtype, jlong dst, jlong n,
                                                        jdouble value) {
  PYDL_JNI_BEGIN("fill")
  check_dtype(dtype);
  check_count(n, "n");
  check_elems(dst, n, dtype, "dst");
  fill(dtype, as_ptr<void>(dst), n, value);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_copyBytes(JNIEnv* env, jclass, jlong src, jlong dst,
                                                             jlong bytes) {
  PYDL_JNI_BEGIN("copyBytes")
  check_count(bytes, "bytes");
  check_range(src, bytes, "src");
  check_range(dst, bytes, "dst");
  if (bytes > 0) std::memmove(as_ptr<void>(dst), as_ptr<const void>(src), static_cast<size_t>(bytes));
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_copyStrided(JNIEnv* env, jclass, jint dtype, jlong src,
                                                               jlongArray srcStrides, jlong dst,
                                                               jlongArray dstStrides, jlongArray shape) {
  PYDL_JNI_BEGIN("copyStrided")
  check_dtype(dtype);
  Dims sh = read_dims(env, shape, "shape");
  Dims ss = read_dims(env, srcStrides, "srcStrides", sh.n);
  Dims ds = read_dims(env, dstStrides, "dstStrides", sh.n);
  check_strided(src, dtype, sh, ss, "src");
  check_strided(dst, dtype, sh, ds, "dst");
  if (shape_numel(sh, "shape") == 0) return;
  copy_strided(dtype, as_ptr<const void>(src), ss.v, as_ptr<void>(dst), ds.v, sh.v, sh.n);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_cast(JNIEnv* env, jclass, jint srcDtype, jlong src, jint dstDtype,
                                                        jlong dst, jlong n) {
  PYDL_JNI_BEGIN("cast")
  check_dtype(srcDtype);
  check_dtype(dstDtype);
  check_count(n, "n");
  check_elems(src, n, srcDtype, "src");
  check_elems(dst, n, dstDtype, "dst");
  if (n == 0) return;
  cast(srcDtype, as_ptr<const void>(src), dstDtype, as_ptr<void>(dst), n);
  PYDL_JNI_END(env, )
}

}  // extern "C"
