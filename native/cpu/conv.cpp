// Convolution support: im2col / col2im on channels-last arrays (1 to 3 spatial axes).
//   im2col: out[b, o.., k.., c] = x[b, o*stride + k*dilation .., c]   (x already padded)
//   col2im: gx[b, o*stride + k*dilation .., c] += g[b, o.., k.., c]    (gx zeroed here; the gradient of im2col)
// The patch order (kernel offsets row-major, channels innermost) is Keras's kernel layout [k.., in, out], so one
// GEMM with the kernel reshaped to [k*in, out] completes a convolution.
#include <algorithm>
#include <cinttypes>
#include <cstring>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {
namespace {

struct Geometry {
  int r = 0;                     // spatial rank
  int64_t batch = 0, c = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
  int64_t in_stride[3] = {0, 0, 0};  // element strides of the spatial axes of x
  int64_t in_per_batch = 0, out_positions = 0, kernel_positions = 0;

  int64_t patch_len() const { return kernel_positions * c; }
  // element offset in x (within one batch item) of output position o (flat) and kernel offset kk (flat)
  int64_t src(int64_t o, int64_t kk) const {
    int64_t off = 0;
    for (int i = r - 1; i >= 0; --i) {
      int64_t oi = o % out[i], ki = kk % k[i];
      o /= out[i];
      kk /= k[i];
      off += (oi * s[i] + ki * d[i]) * in_stride[i];
    }
    return off;
  }
};

Geometry geometry(const Dims& xshape, const Dims& kernel, const Dims& strides, const Dims& dilation,
                  const Dims& out) {
  int r = xshape.n - 2;
  if (r < 1 || r > 3) fail("x must be [batch, 1 to 3 spatial axes, channels], got %d dimensions", xshape.n);
  if (kernel.n != r || strides.n != r || dilation.n != r || out.n != r)
    fail("kernel, strides, dilation and out need %d entries each", r);
  Geometry g;
  g.r = r;
  g.batch = xshape[0];
  g.c = xshape[r + 1];
  check_count(g.batch, "batch");
  check_count(g.c, "channels");
  g.out_positions = 1;
  g.kernel_positions = 1;
  for (int i = 0; i < r; ++i) {
    g.in[i] = xshape[i + 1];
    g.k[i] = kernel[i];
    g.s[i] = strides[i];
    g.d[i] = dilation[i];
    g.out[i] = out[i];
    if (g.k[i] < 1 || g.s[i] < 1 || g.d[i] < 1 || g.out[i] < 0 || g.in[i] < 0)
      fail("axis %d: kernel, stride and dilation must be >= 1 and sizes >= 0", i);
    if (g.out[i] > 0 && (g.out[i] - 1) * g.s[i] + (g.k[i] - 1) * g.d[i] >= g.in[i])
      fail("axis %d: windows reach index %" PRId64 " of an input of length %" PRId64, i,
           (g.out[i] - 1) * g.s[i] + (g.k[i] - 1) * g.d[i], g.in[i]);
    g.out_positions *= g.out[i];
    g.kernel_positions *= g.k[i];
  }
  int64_t st = g.c;
  for (int i = r - 1; i >= 0; --i) {
    g.in_stride[i] = st;
    st *= g.in[i];
  }
  g.in_per_batch = st;
  return g;
}

namespace ref {
template <class T>
void im2col(const Geometry& g, const T* x, T* out) {
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t kk = 0; kk < g.kernel_positions; ++kk)
        for (int64_t ch = 0; ch < g.c; ++ch)
          out[((b * g.out_positions + o) * g.kernel_positions + kk) * g.c + ch] =
              x[b * g.in_per_batch + g.src(o, kk) + ch];
}

template <class T>
void col2im(const Geometry& g, const T* gy, T* gx) {
  for (int64_t i = 0; i < g.batch * g.in_per_batch; ++i) gx[i] = T(0);
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t kk = 0; kk < g.kernel_positions; ++kk)
        for (int64_t ch = 0; ch < g.c; ++ch)
          gx[b * g.in_per_batch + g.src(o, kk) + ch] +=
              gy[((b * g.out_positions + o) * g.kernel_positions + kk) * g.c + ch];
}
}  // namespace ref

namespace opt {
template <class T>
void im2col(const Geometry& g, const T* x, T* out) {
  const int64_t rows = g.batch * g.out_positions;
  parallel_rows(rows, g.patch_len(), [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t b = row / g.out_positions, o = row % g.out_positions;
      const T* xb = x + b * g.in_per_batch;
      T* dst = out + row * g.patch_len();
      for (int64_t kk = 0; kk < g.kernel_positions; ++kk)
        std::memcpy(dst + kk * g.c, xb + g.src(o, kk), sizeof(T) * g.c);
    }
  });
}

template <class T>
void col2im(const Geometry& g, const T* gy, T* gx) {
  // windows of one batch item overlap: split the work by batch item only, never inside one
  parallel_for(g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* gb = gx + b * g.in_per_batch;
      std::fill(gb, gb + g.in_per_batch, T(0));
      for (int64_t o = 0; o < g.out_positions; ++o) {
        const T* src = gy + (b * g.out_positions + o) * g.patch_len();
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk) {
          T* dst = gb + g.src(o, kk);
          const T* s = src + kk * g.c;
#pragma omp simd
          for (int64_t ch = 0; ch < g.c; ++ch) dst[ch] += s[ch];
        }
      }
    }
  }, 1);
}
}  // namespace opt

template <class T>
void run(bool backward, const Geometry& g, const void* a, void* b) {
  const bool r = reference_mode();
  if (!backward) (r ? ref::im2col<T> : opt::im2col<T>)(g, static_cast<const T*>(a), static_cast<T*>(b));
  else (r ? ref::col2im<T> : opt::col2im<T>)(g, static_cast<const T*>(a), static_cast<T*>(b));
}

void entry(JNIEnv* env, bool backward, jint dtype, jlong x, jlongArray xShape, jlong cols, jlongArray kernel,
           jlongArray strides, jlongArray dilation, jlongArray out) {
  check_float_dtype(dtype);
  Dims xs = read_dims(env, xShape, "xShape");
  Geometry g = geometry(xs, read_dims(env, kernel, "kernel"), read_dims(env, strides, "strides"),
                        read_dims(env, dilation, "dilation"), read_dims(env, out, "out"));
  int64_t x_elems = shape_numel(xs, "xShape");
  int64_t col_elems;
  if (__builtin_mul_overflow(g.batch * g.out_positions, g.patch_len(), &col_elems)) fail("patch array too large");
  check_elems(x, x_elems, dtype, backward ? "gx" : "x");
  check_elems(cols, col_elems, dtype, backward ? "g" : "cols");
  if (x_elems == 0) return;
  if (dtype == kFloat32) run<float>(backward, g, backward ? as_ptr<const void>(cols) : as_ptr<const void>(x),
                                    backward ? as_ptr<void>(x) : as_ptr<void>(cols));
  else run<double>(backward, g, backward ? as_ptr<const void>(cols) : as_ptr<const void>(x),
                   backward ? as_ptr<void>(x) : as_ptr<void>(cols));
}

}  // namespace
}  // namespace pydl

using namespace pydl;

extern "C" {

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_im2col(JNIEnv* env, jclass, jint dtype, jlong x, jlongArray xShape,
                                                          jlong cols, jlongArray kernel, jlongArray strides,
                                                          jlongArray dilation, jlongArray out) {
  PYDL_JNI_BEGIN("im2col")
  entry(env, false, dtype, x, xShape, cols, kernel, strides, dilation, out);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_col2im(JNIEnv* env, jclass, jint dtype, jlong g, jlong gx,
                                                          jlongArray xShape, jlongArray kernel, jlongArray strides,
                                                          jlongArray dilation, jlongArray out) {
  PYDL_JNI_BEGIN("col2im")
  entry(env, true, dtype, gx, xShape, g, kernel, strides, dilation, out);
  PYDL_JNI_END(env, )
}

}  // extern "C"
