// Window ops on channels-last arrays x [batch, s1..sr, c] (r = 1 to 3 spatial axes): convolution patches
// (im2col / col2im) and max / average pooling. Windows may reach into padding: padBefore[i] elements before and
// padAfter[i] after axis i; a padded position reads 0 (im2col), is ignored (pooling) and receives nothing (col2im,
// pooling backward). Position of output o, kernel offset k along one axis: o*stride + k*dilation - padBefore.
//
//   im2col: cols[b, o.., g, k.., cc] = x[b, pos(o, k).., g*cg + cc]   (cg = c / groups; g = 0 when groups == 1)
//   col2im: gx[b, pos(o, k).., g*cg + cc] += cols[b, o.., g, k.., cc]  (gx zeroed here; the gradient of im2col)
//   pool:   y[b, o.., ch] = max (or mean) of x[b, pos(o, k).., ch] over the in-range kernel offsets k; for max,
//           idx[b, o.., ch] = flat spatial index (within the batch item) of the first maximum
//   pool backward: gx (zeroed here) receives gy at idx (max) or gy / count spread over the window (average)
//
// The patch order (group, then kernel offsets row-major, channels innermost) is Keras's kernel layout [k.., in, out]
// per group, so a convolution is one GEMM per group with the kernel reshaped to [k*cg, out].
#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <limits>
#include <vector>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {
namespace {

struct Geometry {
  int r = 0;  // spatial rank
  int64_t batch = 0, c = 0, groups = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0};
  int64_t in_positions = 1, out_positions = 1, kernel_positions = 1;

  int64_t cg() const { return c / groups; }
  int64_t patch_len() const { return kernel_positions * c; }
  int64_t in_per_batch() const { return in_positions * c; }
  // per-axis output coordinates of flat output position o
  void out_coords(int64_t o, int64_t* oc) const {
    for (int i = r - 1; i >= 0; --i) {
      oc[i] = o % out[i];
      o /= out[i];
    }
  }
  // flat spatial position (within one batch item) read by output o and kernel offset kk; -1 in the padding
  int64_t pos(int64_t o, int64_t kk) const {
    int64_t p = 0, mul = 1;
    for (int i = r - 1; i >= 0; --i) {
      int64_t oi = o % out[i], ki = kk % k[i];
      o /= out[i];
      kk /= k[i];
      int64_t q = oi * s[i] + ki * d[i] - pb[i];
      if (q < 0 || q >= in[i]) return -1;
      p += q * mul;
      mul *= in[i];
    }
    return p;
  }
};

Geometry geometry(const Dims& xshape, const Dims& kernel, const Dims& strides, const Dims& dilation,
                  const Dims& pad_before, const Dims& pad_after, const Dims& out, int64_t groups, bool pooling) {
  int r = xshape.n - 2;
  if (r < 1 || r > 3) fail("x must be [batch, 1 to 3 spatial axes, channels], got %d dimensions", xshape.n);
  if (kernel.n != r || strides.n != r || dilation.n != r || pad_before.n != r || pad_after.n != r || out.n != r)
    fail("kernel, strides, dilation, padBefore, padAfter and out need %d entries each", r);
  Geometry g;
  g.r = r;
  g.batch = xshape[0];
  g.c = xshape[r + 1];
  g.groups = groups;
  check_count(g.batch, "batch");
  check_count(g.c, "channels");
  if (groups < 1 || g.c % groups != 0)
    fail("groups=%" PRId64 " must be >= 1 and divide the %" PRId64 " channels", groups, g.c);
  for (int i = 0; i < r; ++i) {
    g.in[i] = xshape[i + 1];
    g.k[i] = kernel[i];
    g.s[i] = strides[i];
    g.d[i] = dilation[i];
    g.pb[i] = pad_before[i];
    g.out[i] = out[i];
    if (g.k[i] < 1 || g.s[i] < 1 || g.d[i] < 1 || g.out[i] < 0 || g.in[i] < 0 || g.pb[i] < 0 || pad_after[i] < 0)
      fail("axis %d: kernel, stride and dilation must be >= 1, sizes and padding >= 0", i);
    int64_t reach = (g.out[i] - 1) * g.s[i] + (g.k[i] - 1) * g.d[i];
    if (g.out[i] > 0 && reach >= g.in[i] + g.pb[i] + pad_after[i])
      fail("axis %d: windows reach index %" PRId64 " of an input of length %" PRId64 " padded by %" PRId64
           " before and %" PRId64 " after",
           i, reach, g.in[i], g.pb[i], pad_after[i]);
    // every pooling window must hold a real element (padding narrower than the window, non-empty input)
    if (pooling && (g.pb[i] >= g.k[i] || pad_after[i] >= g.k[i] || g.in[i] < 1))
      fail("axis %d: pooling needs an input of length >= 1 (got %" PRId64 ") and padding smaller than the window "
           "(%" PRId64 "; got %" PRId64 " before, %" PRId64 " after)", i, g.in[i], g.k[i], g.pb[i], pad_after[i]);
    g.in_positions *= g.in[i];
    g.out_positions *= g.out[i];
    g.kernel_positions *= g.k[i];
  }
  return g;
}

namespace ref {
template <class T>
void im2col(const Geometry& g, const T* x, T* cols) {
  const int64_t cg = g.cg();
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t grp = 0; grp < g.groups; ++grp)
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk)
          for (int64_t cc = 0; cc < cg; ++cc) {
            int64_t p = g.pos(o, kk);
            cols[(b * g.out_positions + o) * g.patch_len() + (grp * g.kernel_positions + kk) * cg + cc] =
                p < 0 ? T(0) : x[b * g.in_per_batch() + p * g.c + grp * cg + cc];
          }
}

template <class T>
void col2im(const Geometry& g, const T* cols, T* gx) {
  const int64_t cg = g.cg();
  for (int64_t i = 0; i < g.batch * g.in_per_batch(); ++i) gx[i] = T(0);
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t grp = 0; grp < g.groups; ++grp)
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk)
          for (int64_t cc = 0; cc < cg; ++cc) {
            int64_t p = g.pos(o, kk);
            if (p >= 0)
              gx[b * g.in_per_batch() + p * g.c + grp * cg + cc] +=
                  cols[(b * g.out_positions + o) * g.patch_len() + (grp * g.kernel_positions + kk) * cg + cc];
          }
}

template <class T>
void pool(const Geometry& g, bool max, const T* x, T* y, int32_t* idx) {
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t ch = 0; ch < g.c; ++ch) {
        T acc = T(0);
        int64_t best = -1, count = 0;
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk) {
          int64_t p = g.pos(o, kk);
          if (p < 0) continue;
          T v = x[b * g.in_per_batch() + p * g.c + ch];
          if (max) {
            if (best < 0 || v > acc) acc = v, best = p;
          } else {
            acc += v;
          }
          ++count;
        }
        int64_t at = (b * g.out_positions + o) * g.c + ch;
        y[at] = max ? acc : acc / T(count);
        if (max && idx) idx[at] = static_cast<int32_t>(best);
      }
}

template <class T>
void pool_backward(const Geometry& g, bool max, const T* gy, const int32_t* idx, T* gx) {
  for (int64_t i = 0; i < g.batch * g.in_per_batch(); ++i) gx[i] = T(0);
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t ch = 0; ch < g.c; ++ch) {
        int64_t at = (b * g.out_positions + o) * g.c + ch;
        if (max) {
          gx[b * g.in_per_batch() + idx[at] * g.c + ch] += gy[at];
          continue;
        }
        int64_t count = 0;
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk) count += g.pos(o, kk) >= 0;
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk) {
          int64_t p = g.pos(o, kk);
          if (p >= 0) gx[b * g.in_per_batch() + p * g.c + ch] += gy[at] / T(count);
        }
      }
}

// depthwise: y[b, o, ch*dm + m] = bias[ch*dm + m] + sum over k of x[b, pos(o, k), ch] * w[k, ch, m]
template <class T>
void depthwise(const Geometry& g, int64_t dm, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cm = g.c * dm;
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t j = 0; j < cm; ++j) {
        T acc = bias ? bias[j] : T(0);
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk) {
          int64_t p = g.pos(o, kk);
          if (p >= 0) acc += x[b * g.in_per_batch() + p * g.c + j / dm] * w[kk * cm + j];
        }
        y[(b * g.out_positions + o) * cm + j] = acc;
      }
}

// gradients of depthwise for upstream gy: gx and gw (either may be null; both overwritten)
template <class T>
void depthwise_backward(const Geometry& g, int64_t dm, const T* x, const T* w, const T* gy, T* gx, T* gw) {
  const int64_t cm = g.c * dm;
  if (gx) for (int64_t i = 0; i < g.batch * g.in_per_batch(); ++i) gx[i] = T(0);
  if (gw) for (int64_t i = 0; i < g.kernel_positions * cm; ++i) gw[i] = T(0);
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t o = 0; o < g.out_positions; ++o)
      for (int64_t j = 0; j < cm; ++j)
        for (int64_t kk = 0; kk < g.kernel_positions; ++kk) {
          int64_t p = g.pos(o, kk);
          if (p < 0) continue;
          const T gv = gy[(b * g.out_positions + o) * cm + j];
          const int64_t xi = b * g.in_per_batch() + p * g.c + j / dm;
          if (gx) gx[xi] += gv * w[kk * cm + j];
          if (gw) gw[kk * cm + j] += gv * x[xi];
        }
}
}  // namespace ref

namespace opt {
// Calls f(kernel offset index of the run, x position offset of the outer axes (in positions), valid) for each
// combination of kernel offsets along the outer spatial axes (all but the last) of the window at output coordinates
// oc; valid is false when an outer coordinate lies in the padding.
template <class F>
inline __attribute__((always_inline)) void for_outer_offsets(const Geometry& g, const int64_t* oc, F&& f) {
  const int L = g.r - 1;
  const int64_t kl = g.k[L], outer = g.kernel_positions / kl;
  int64_t ki[3] = {0, 0, 0};  // kernel offsets of the outer axes (odometer, last outer axis fastest)
  for (int64_t ko = 0; ko < outer; ++ko) {
    int64_t off = 0, stride = g.in[L];
    bool valid = true;
    for (int i = L - 1; i >= 0; --i) {
      int64_t q = oc[i] * g.s[i] + ki[i] * g.d[i] - g.pb[i];
      valid = valid && q >= 0 && q < g.in[i];
      off += q * stride;
      stride *= g.in[i];
    }
    f(ko * kl, off, valid);
    for (int i = L - 1; i >= 0; --i) {
      if (++ki[i] < g.k[i]) break;
      ki[i] = 0;
    }
  }
}

// Walks the window of output o as runs along the last spatial axis: f(kernel offset index of the run's first element,
// x position of the run's kernel offset 0 (may lie in the padding), in-range kernel indices [lo, hi) of the last
// axis); runs whose outer coordinates lie in the padding come with lo == hi == 0.
template <class F>
inline __attribute__((always_inline)) void for_window_runs(const Geometry& g, int64_t o, F&& f) {
  int64_t oc[3];
  g.out_coords(o, oc);
  const int L = g.r - 1;
  const int64_t kl = g.k[L];
  const int64_t p0 = oc[L] * g.s[L] - g.pb[L];
  // in-range kernel indices of the last axis: 0 <= p0 + j*d < in
  int64_t lo = 0, hi = kl;
  if (p0 < 0) lo = std::min(kl, (-p0 + g.d[L] - 1) / g.d[L]);
  if (p0 + (kl - 1) * g.d[L] >= g.in[L]) hi = std::max<int64_t>(lo, p0 >= g.in[L] ? 0 : (g.in[L] - 1 - p0) / g.d[L] + 1);
  if (hi < lo) hi = lo;
  for_outer_offsets(g, oc, [&](int64_t kk0, int64_t off, bool valid) {
    f(kk0, off + p0, valid ? lo : 0, valid ? hi : 0);
  });
}

// Copies n elements; short runs (the usual case: kernel width times a few channels) as fixed-length copies, which
// the compiler unrolls (a loop of run-time length costs several times more per element at these lengths).
template <int N, class T>
inline __attribute__((always_inline)) void copy_fixed(T* dst, const T* src) {
  for (int i = 0; i < N; ++i) dst[i] = src[i];
}

template <class T>
inline void copy_run(T* dst, const T* src, int64_t n) {
  switch (n) {
    case 0: return;
    case 1: return copy_fixed<1>(dst, src);
    case 2: return copy_fixed<2>(dst, src);
    case 3: return copy_fixed<3>(dst, src);
    case 4: return copy_fixed<4>(dst, src);
    case 5: return copy_fixed<5>(dst, src);
    case 6: return copy_fixed<6>(dst, src);
    case 7: return copy_fixed<7>(dst, src);
    case 8: return copy_fixed<8>(dst, src);
    case 9: return copy_fixed<9>(dst, src);
    case 10: return copy_fixed<10>(dst, src);
    case 11: return copy_fixed<11>(dst, src);
    case 12: return copy_fixed<12>(dst, src);
    case 16: return copy_fixed<16>(dst, src);
    default: std::memcpy(dst, src, sizeof(T) * n);
  }
}

// 2-D, no dilation along the width (most convolutions): plain loops over (batch, row) lines with no per-window
// index arithmetic; with one group each kernel row of a window is one copy of kw * c elements, with several groups
// one copy of c / groups elements per group and kernel offset (the group-major patch order).
template <class T>
void im2col_2d(const Geometry& g, const T* x, T* cols) {
  const int64_t H = g.in[0], W = g.in[1], OH = g.out[0], OW = g.out[1], KH = g.k[0], KW = g.k[1], c = g.c;
  const int64_t sh = g.s[0], sw = g.s[1], dh = g.d[0], ph = g.pb[0], pw = g.pb[1], P = g.patch_len(), run = KW * c;
  const int64_t G = g.groups, cg = g.cg(), K = g.kernel_positions;
  parallel_rows(g.batch * OH, OW * P, [&](int64_t l0, int64_t l1) {
    for (int64_t line = l0; line < l1; ++line) {
      const int64_t b = line / OH, oh = line % OH;
      const T* xb = x + b * H * W * c;
      T* dst = cols + line * OW * P;
      for (int64_t ow = 0; ow < OW; ++ow, dst += P) {
        const int64_t iw = ow * sw - pw;
        const int64_t lo = iw < 0 ? std::min(KW, -iw) : 0, hi = std::max(lo, std::min(KW, W - iw));
        for (int64_t kh = 0; kh < KH; ++kh) {
          const int64_t ih = oh * sh + kh * dh - ph;
          const bool row_in = ih >= 0 && ih < H;
          if (G == 1) {
            T* d = dst + kh * run;
            if (!row_in) {
              std::fill(d, d + run, T(0));
              continue;
            }
            if (lo > 0) std::fill(d, d + lo * c, T(0));
            copy_run(d + lo * c, xb + (ih * W + iw + lo) * c, (hi - lo) * c);
            if (hi < KW) std::fill(d + hi * c, d + run, T(0));
            continue;
          }
          for (int64_t grp = 0; grp < G; ++grp) {
            T* d = dst + (grp * K + kh * KW) * cg;
            for (int64_t kw = 0; kw < KW; ++kw, d += cg) {
              if (row_in && kw >= lo && kw < hi) copy_run(d, xb + (ih * W + iw + kw) * c + grp * cg, cg);
              else std::fill(d, d + cg, T(0));
            }
          }
        }
      }
    }
  });
}

template <class T>
void im2col(const Geometry& g, const T* x, T* cols) {
  const int64_t c = g.c, cg = g.cg(), kl = g.k[g.r - 1], dl = g.d[g.r - 1], K = g.kernel_positions;
  if (g.r == 2 && dl == 1) return im2col_2d(g, x, cols);
  const bool runs = g.groups == 1 && dl == 1;  // the in-range part of a last-axis run is one contiguous copy
  parallel_rows(g.batch * g.out_positions, g.patch_len(), [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t b = row / g.out_positions, o = row % g.out_positions;
      const T* xb = x + b * g.in_per_batch();
      T* dst = cols + row * g.patch_len();
      for_window_runs(g, o, [&](int64_t kk0, int64_t pos0, int64_t lo, int64_t hi) {
        if (runs) {
          T* d0 = dst + kk0 * c;
          if (lo > 0) std::fill(d0, d0 + lo * c, T(0));
          if (hi > lo) copy_run(d0 + lo * c, xb + (pos0 + lo) * c, (hi - lo) * c);
          if (hi < kl) std::fill(d0 + hi * c, d0 + kl * c, T(0));
          return;
        }
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          T* d0 = dst + (grp * K + kk0) * cg;
          for (int64_t j = 0; j < kl; ++j) {
            if (j >= lo && j < hi) copy_run(d0 + j * cg, xb + (pos0 + j * dl) * c + grp * cg, cg);
            else std::fill(d0 + j * cg, d0 + (j + 1) * cg, T(0));
          }
        }
      });
    }
  });
}

// The gradient of im2col_2d, same loops; lines of one batch item overlap, so threads split the batch only.
template <class T>
void col2im_2d(const Geometry& g, const T* cols, T* gx) {
  const int64_t H = g.in[0], W = g.in[1], OH = g.out[0], OW = g.out[1], KH = g.k[0], KW = g.k[1], c = g.c;
  const int64_t sh = g.s[0], sw = g.s[1], dh = g.d[0], ph = g.pb[0], pw = g.pb[1], P = g.patch_len(), run = KW * c;
  const int64_t G = g.groups, cg = g.cg(), K = g.kernel_positions;
  parallel_for(g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* gb = gx + b * H * W * c;
      std::fill(gb, gb + H * W * c, T(0));
      const T* src = cols + b * OH * OW * P;
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow, src += P) {
          const int64_t iw = ow * sw - pw;
          const int64_t lo = iw < 0 ? std::min(KW, -iw) : 0, hi = std::max(lo, std::min(KW, W - iw));
          for (int64_t kh = 0; kh < KH; ++kh) {
            const int64_t ih = oh * sh + kh * dh - ph;
            if (ih < 0 || ih >= H) continue;
            if (G == 1) {
              T* d = gb + (ih * W + iw + lo) * c;
              const T* s = src + kh * run + lo * c;
              const int64_t n = (hi - lo) * c;
#pragma omp simd
              for (int64_t i = 0; i < n; ++i) d[i] += s[i];
              continue;
            }
            for (int64_t grp = 0; grp < G; ++grp)
              for (int64_t kw = lo; kw < hi; ++kw) {
                T* d = gb + (ih * W + iw + kw) * c + grp * cg;
                const T* s = src + (grp * K + kh * KW + kw) * cg;
#pragma omp simd
                for (int64_t i = 0; i < cg; ++i) d[i] += s[i];
              }
          }
        }
    }
  }, 1);
}

template <class T>
void col2im(const Geometry& g, const T* cols, T* gx) {
  const int64_t c = g.c, cg = g.cg(), dl = g.d[g.r - 1], K = g.kernel_positions;
  const bool runs = g.groups == 1 && dl == 1;
  if (g.r == 2 && dl == 1) return col2im_2d(g, cols, gx);
  // windows of one batch item overlap: split the work by batch item only, never inside one
  parallel_for(g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* gb = gx + b * g.in_per_batch();
      std::fill(gb, gb + g.in_per_batch(), T(0));
      for (int64_t o = 0; o < g.out_positions; ++o) {
        const T* src = cols + (b * g.out_positions + o) * g.patch_len();
        for_window_runs(g, o, [&](int64_t kk0, int64_t pos0, int64_t lo, int64_t hi) {
          if (runs) {
            T* dst = gb + (pos0 + lo) * c;
            const T* s = src + (kk0 + lo) * c;
            const int64_t n = (hi - lo) * c;
#pragma omp simd
            for (int64_t i = 0; i < n; ++i) dst[i] += s[i];
            return;
          }
          for (int64_t grp = 0; grp < g.groups; ++grp)
            for (int64_t j = lo; j < hi; ++j) {
              T* dst = gb + (pos0 + j * dl) * c + grp * cg;
              const T* s = src + (grp * K + kk0 + j) * cg;
#pragma omp simd
              for (int64_t i = 0; i < cg; ++i) dst[i] += s[i];
            }
        });
      }
    }
  }, 1);
}

// 2-D pooling (the usual case): plain loops over (batch, row) lines, each window's in-range rectangle known up front.
template <class T>
void pool_2d(const Geometry& g, bool max, const T* x, T* y, int32_t* idx) {
  const int64_t H = g.in[0], W = g.in[1], OH = g.out[0], OW = g.out[1], KH = g.k[0], KW = g.k[1], c = g.c;
  const int64_t sh = g.s[0], sw = g.s[1], ph = g.pb[0], pw = g.pb[1];
  parallel_rows(g.batch * OH, OW * KH * KW * c, [&](int64_t l0, int64_t l1) {
    for (int64_t line = l0; line < l1; ++line) {
      const int64_t b = line / OH, oh = line % OH, ih = oh * sh - ph;
      const int64_t h0 = std::max<int64_t>(0, -ih), h1 = std::min(KH, H - ih);
      const T* xb = x + b * H * W * c;
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t iw = ow * sw - pw, w0 = std::max<int64_t>(0, -iw), w1 = std::min(KW, W - iw);
        T* yr = y + (line * OW + ow) * c;
        int32_t* ir = idx ? idx + (line * OW + ow) * c : nullptr;
        const int64_t p0 = (ih + h0) * W + iw + w0;  // the first in-range position: initialises the window
        std::memcpy(yr, xb + p0 * c, sizeof(T) * c);
        if (ir) std::fill(ir, ir + c, static_cast<int32_t>(p0));
        for (int64_t kh = h0; kh < h1; ++kh)
          for (int64_t kw = (kh == h0 ? w0 + 1 : w0); kw < w1; ++kw) {
            const int64_t p = (ih + kh) * W + iw + kw;
            const T* v = xb + p * c;
            if (!max) {
#pragma omp simd
              for (int64_t ch = 0; ch < c; ++ch) yr[ch] += v[ch];
            } else if (ir) {
              const int32_t pi = static_cast<int32_t>(p);
#pragma omp simd
              for (int64_t ch = 0; ch < c; ++ch) {
                const bool take = v[ch] > yr[ch];
                yr[ch] = take ? v[ch] : yr[ch];
                ir[ch] = take ? pi : ir[ch];
              }
            } else {
#pragma omp simd
              for (int64_t ch = 0; ch < c; ++ch) yr[ch] = v[ch] > yr[ch] ? v[ch] : yr[ch];
            }
          }
        if (!max) {
          const T inv = T(1) / T((h1 - h0) * (w1 - w0));
          for (int64_t ch = 0; ch < c; ++ch) yr[ch] *= inv;
        }
      }
    }
  });
}

template <class T>
void pool(const Geometry& g, bool max, const T* x, T* y, int32_t* idx) {
  const int64_t c = g.c, dl = g.d[g.r - 1];
  if (g.r == 2) return pool_2d(g, max, x, y, idx);
  parallel_rows(g.batch * g.out_positions, g.kernel_positions * c, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t b = row / g.out_positions, o = row % g.out_positions;
      const T* xb = x + b * g.in_per_batch();
      T* yr = y + row * c;
      int32_t* ir = idx ? idx + row * c : nullptr;
      int64_t count = 0;
      for_window_runs(g, o, [&](int64_t, int64_t pos0, int64_t lo, int64_t hi) {
        for (int64_t j = lo; j < hi; ++j) {
          const int64_t p = pos0 + j * dl;
          const T* v = xb + p * c;
          if (count == 0) {
            for (int64_t ch = 0; ch < c; ++ch) yr[ch] = v[ch];
            if (ir)
              for (int64_t ch = 0; ch < c; ++ch) ir[ch] = static_cast<int32_t>(p);
          } else if (max) {
            if (ir) {
#pragma omp simd
              for (int64_t ch = 0; ch < c; ++ch) {
                bool take = v[ch] > yr[ch];
                yr[ch] = take ? v[ch] : yr[ch];
                ir[ch] = take ? static_cast<int32_t>(p) : ir[ch];
              }
            } else {
#pragma omp simd
              for (int64_t ch = 0; ch < c; ++ch) yr[ch] = v[ch] > yr[ch] ? v[ch] : yr[ch];
            }
          } else {
#pragma omp simd
            for (int64_t ch = 0; ch < c; ++ch) yr[ch] += v[ch];
          }
          ++count;
        }
      });
      if (!max) {
        const T inv = T(1) / T(count);
        for (int64_t ch = 0; ch < c; ++ch) yr[ch] *= inv;
      }
    }
  });
}

template <class T>
void pool_backward(const Geometry& g, bool max, const T* gy, const int32_t* idx, T* gx) {
  const int64_t c = g.c, dl = g.d[g.r - 1];
  parallel_for(g.batch, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T* gb = gx + b * g.in_per_batch();
      std::fill(gb, gb + g.in_per_batch(), T(0));
      for (int64_t o = 0; o < g.out_positions; ++o) {
        const int64_t row = b * g.out_positions + o;
        const T* gr = gy + row * c;
        if (max) {
          const int32_t* ir = idx + row * c;
          for (int64_t ch = 0; ch < c; ++ch) gb[static_cast<int64_t>(ir[ch]) * c + ch] += gr[ch];
          continue;
        }
        int64_t count = 0;
        for_window_runs(g, o, [&](int64_t, int64_t, int64_t lo, int64_t hi) { count += hi - lo; });
        const T inv = T(1) / T(count);
        for_window_runs(g, o, [&](int64_t, int64_t pos0, int64_t lo, int64_t hi) {
          for (int64_t j = lo; j < hi; ++j) {
            T* dst = gb + (pos0 + j * dl) * c;
#pragma omp simd
            for (int64_t ch = 0; ch < c; ++ch) dst[ch] += gr[ch] * inv;
          }
        });
      }
    }
  }, 1);
}
// depthwise, channels innermost: per output row, each in-range kernel offset adds x[pos, :] * w[k, :] (dm == 1) or
// its depth_multiplier-wide expansion
template <class T>
void depthwise(const Geometry& g, int64_t dm, const T* x, const T* w, const T* bias, T* y) {
  const int64_t c = g.c, cm = c * dm, dl = g.d[g.r - 1];
  parallel_rows(g.batch * g.out_positions, g.kernel_positions * cm, [&](int64_t r0, int64_t r1) {
    for (int64_t row = r0; row < r1; ++row) {
      const int64_t b = row / g.out_positions, o = row % g.out_positions;
      const T* xb = x + b * g.in_per_batch();
      T* yr = y + row * cm;
      if (bias) std::memcpy(yr, bias, sizeof(T) * cm);
      else std::fill(yr, yr + cm, T(0));
      for_window_runs(g, o, [&](int64_t kk0, int64_t pos0, int64_t lo, int64_t hi) {
        for (int64_t j = lo; j < hi; ++j) {
          const T* xv = xb + (pos0 + j * dl) * c;
          const T* wk = w + (kk0 + j) * cm;
          if (dm == 1) {
#pragma omp simd
            for (int64_t ch = 0; ch < c; ++ch) yr[ch] += xv[ch] * wk[ch];
          } else {
            for (int64_t ch = 0; ch < c; ++ch)
              for (int64_t m = 0; m < dm; ++m) yr[ch * dm + m] += xv[ch] * wk[ch * dm + m];
          }
        }
      });
    }
  });
}

template <class T>
void depthwise_backward(const Geometry& g, int64_t dm, const T* x, const T* w, const T* gy, T* gx, T* gw) {
  const int64_t c = g.c, cm = c * dm, dl = g.d[g.r - 1], wn = g.kernel_positions * cm;
  const int nt = std::max(1, num_threads());
  std::vector<T> partial(gw ? static_cast<size_t>(nt) * wn : 0, T(0));  // per-thread kernel gradients, summed below
  parallel_for(g.batch, 1, [&](int64_t b0, int64_t b1) {
    T* gwt = gw ? partial.data() + static_cast<int64_t>(omp_get_thread_num()) * wn : nullptr;
    for (int64_t b = b0; b < b1; ++b) {
      const T* xb = x + b * g.in_per_batch();
      T* gxb = gx ? gx + b * g.in_per_batch() : nullptr;
      if (gxb) std::fill(gxb, gxb + g.in_per_batch(), T(0));
      for (int64_t o = 0; o < g.out_positions; ++o) {
        const T* gr = gy + (b * g.out_positions + o) * cm;
        for_window_runs(g, o, [&](int64_t kk0, int64_t pos0, int64_t lo, int64_t hi) {
          for (int64_t j = lo; j < hi; ++j) {
            const int64_t p = pos0 + j * dl;
            const T* xv = xb + p * c;
            const T* wk = w + (kk0 + j) * cm;
            if (dm == 1) {
              if (gxb) {
                T* gxv = gxb + p * c;
#pragma omp simd
                for (int64_t ch = 0; ch < c; ++ch) gxv[ch] += gr[ch] * wk[ch];
              }
              if (gwt) {
                T* gwk = gwt + (kk0 + j) * cm;
#pragma omp simd
                for (int64_t ch = 0; ch < c; ++ch) gwk[ch] += gr[ch] * xv[ch];
              }
            } else {
              for (int64_t ch = 0; ch < c; ++ch)
                for (int64_t m = 0; m < dm; ++m) {
                  if (gxb) gxb[p * c + ch] += gr[ch * dm + m] * wk[ch * dm + m];
                  if (gwt) gwt[(kk0 + j) * cm + ch * dm + m] += gr[ch * dm + m] * xv[ch];
                }
            }
          }
        });
      }
    }
  }, 1);
  if (gw) {
    std::fill(gw, gw + wn, T(0));
    for (int t = 0; t < nt; ++t)
      for (int64_t i = 0; i < wn; ++i) gw[i] += partial[static_cast<size_t>(t) * wn + i];
  }
}
}  // namespace opt

struct Args {
  Geometry g;
  int64_t x_elems = 0, out_elems = 0;  // x [b, s.., c]; out: cols [b, o.., K*c] or pooled [b, o.., c]
};

Args read_args(JNIEnv* env, jlongArray xShape, jlongArray kernel, jlongArray strides, jlongArray dilation,
               jlongArray padBefore, jlongArray padAfter, jlongArray out, int64_t groups, bool patches) {
  Dims xs = read_dims(env, xShape, "xShape");
  Args a;
  Dims k = read_dims(env, kernel, "kernel"), dil = k;
  if (dilation != nullptr) dil = read_dims(env, dilation, "dilation");
  else std::fill(dil.v, dil.v + dil.n, int64_t{1});  // pooling: no dilation
  a.g = geometry(xs, k, read_dims(env, strides, "strides"), dil, read_dims(env, padBefore, "padBefore"),
                 read_dims(env, padAfter, "padAfter"), read_dims(env, out, "out"), groups, !patches);
  a.x_elems = shape_numel(xs, "xShape");
  int64_t per_row = patches ? a.g.patch_len() : a.g.c;
  if (__builtin_mul_overflow(a.g.batch * a.g.out_positions, per_row, &a.out_elems)) fail("output array too large");
  if (!patches && a.g.in_positions > std::numeric_limits<int32_t>::max())
    fail("pooling indices are int32: %" PRId64 " spatial positions are too many", a.g.in_positions);
  return a;
}

template <class T>
void run_patches(bool backward, const Geometry& g, int64_t x, int64_t cols) {
  const bool r = reference_mode();
  if (!backward) (r ? ref::im2col<T> : opt::im2col<T>)(g, as_ptr<const T>(x), as_ptr<T>(cols));
  else (r ? ref::col2im<T> : opt::col2im<T>)(g, as_ptr<const T>(cols), as_ptr<T>(x));
}

template <class T>
void run_pool(bool backward, bool max, const Geometry& g, int64_t x, int64_t y, int64_t idx) {
  const bool r = reference_mode();
  if (!backward) (r ? ref::pool<T> : opt::pool<T>)(g, max, as_ptr<const T>(x), as_ptr<T>(y), as_ptr<int32_t>(idx));
  else (r ? ref::pool_backward<T> : opt::pool_backward<T>)(g, max, as_ptr<const T>(y), as_ptr<const int32_t>(idx),
                                                          as_ptr<T>(x));
}

// x: the input (forward) or its gradient (backward, written); cols: the patches (forward: written).
void patches_entry(JNIEnv* env, bool backward, jint dtype, jlong x, jlongArray xShape, jlong cols, jlongArray kernel,
                   jlongArray strides, jlongArray dilation, jlongArray padBefore, jlongArray padAfter, jlongArray out,
                   jlong groups) {
  check_float_dtype(dtype);
  Args a = read_args(env, xShape, kernel, strides, dilation, padBefore, padAfter, out, groups, true);
  check_elems(x, a.x_elems, dtype, backward ? "gx" : "x");
  check_elems(cols, a.out_elems, dtype, "cols");
  if ((backward ? a.x_elems : a.out_elems) == 0) return;
  if (dtype == kFloat32) run_patches<float>(backward, a.g, x, cols);
  else run_patches<double>(backward, a.g, x, cols);
}

// x: the input (forward) or its gradient (backward, written); y: the pooled values (forward: written) or their
// gradient; idx: argmax positions (max only; forward: written when not 0, backward: read and checked).
void pool_entry(JNIEnv* env, bool backward, bool max, jint dtype, jlong x, jlongArray xShape, jlong y, jlong idx,
                jlongArray window, jlongArray strides, jlongArray padBefore, jlongArray padAfter, jlongArray out) {
  check_float_dtype(dtype);
  Args a = read_args(env, xShape, window, strides, nullptr, padBefore, padAfter, out, 1, false);
  check_elems(x, a.x_elems, dtype, backward ? "gx" : "x");
  check_elems(y, a.out_elems, dtype, backward ? "gy" : "y");
  if (max && (backward || idx != 0)) check_elems(idx, a.out_elems, kInt32, "idx");
  if (backward && max) {
    // indices come from Java memory: check them before scattering
    const int32_t* ip = as_ptr<const int32_t>(idx);
    for (int64_t i = 0; i < a.out_elems; ++i)
      if (ip[i] < 0 || ip[i] >= a.g.in_positions)
        fail("idx[%" PRId64 "] = %d is outside [0, %" PRId64 ")", i, ip[i], a.g.in_positions);
  }
  if ((backward ? a.x_elems : a.out_elems) == 0) return;
  if (dtype == kFloat32) run_pool<float>(backward, max, a.g, x, y, idx);
  else run_pool<double>(backward, max, a.g, x, y, idx);
}

template <class T>
void run_depthwise(bool backward, const Geometry& g, int64_t dm, int64_t x, int64_t w, int64_t bias, int64_t y,
                   int64_t gx, int64_t gw) {
  const bool r = reference_mode();
  if (!backward) (r ? ref::depthwise<T> : opt::depthwise<T>)(g, dm, as_ptr<const T>(x), as_ptr<const T>(w),
                                                           as_ptr<const T>(bias), as_ptr<T>(y));
  else (r ? ref::depthwise_backward<T> : opt::depthwise_backward<T>)(g, dm, as_ptr<const T>(x), as_ptr<const T>(w),
                                                                    as_ptr<const T>(y), as_ptr<T>(gx), as_ptr<T>(gw));
}

// Depthwise convolution: x [batch, s.., c], kernel w [k.., c, dm], bias [c*dm] (0: none), y [batch, o.., c*dm];
// backward: gx and gw (each 0 when not wanted) from gy (passed as y).
void depthwise_entry(JNIEnv* env, bool backward, jint dtype, jlong x, jlongArray xShape, jlong w, jlong bias, jlong y,
                     jlong gx, jlong gw, jlongArray kernel, jlongArray strides, jlongArray dilation,
                     jlongArray padBefore, jlongArray padAfter, jlongArray out, jlong dm) {
  check_float_dtype(dtype);
  Args a = read_args(env, xShape, kernel, strides, dilation, padBefore, padAfter, out, 1, true);
  if (dm < 1) fail("depth multiplier must be >= 1, got %" PRId64, static_cast<int64_t>(dm));
  int64_t cm, yn, wn;
  if (__builtin_mul_overflow(a.g.c, dm, &cm) || __builtin_mul_overflow(a.g.batch * a.g.out_positions, cm, &yn) ||
      __builtin_mul_overflow(a.g.kernel_positions, cm, &wn))
    fail("depthwise arrays too large");
  check_elems(x, a.x_elems, dtype, "x");
  check_elems(w, wn, dtype, "kernel");
  check_elems(y, yn, dtype, backward ? "gy" : "y");
  if (bias != 0) check_elems(bias, cm, dtype, "bias");
  if (gx != 0) check_elems(gx, a.x_elems, dtype, "gx");
  if (gw != 0) check_elems(gw, wn, dtype, "gw");
  if (dtype == kFloat32) run_depthwise<float>(backward, a.g, dm, x, w, bias, y, gx, gw);
  else run_depthwise<double>(backward, a.g, dm, x, w, bias, y, gx, gw);
}

}  // namespace
}  // namespace pydl

using namespace pydl;

extern "C" {

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_im2col(JNIEnv* env, jclass, jint dtype, jlong x, jlongArray xShape,
                                                          jlong cols, jlongArray kernel, jlongArray strides,
                                                          jlongArray dilation, jlongArray padBefore,
                                                          jlongArray padAfter, jlongArray out, jlong groups) {
  PYDL_JNI_BEGIN("im2col")
  patches_entry(env, false, dtype, x, xShape, cols, kernel, strides, dilation, padBefore, padAfter, out, groups);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_col2im(JNIEnv* env, jclass, jint dtype, jlong cols, jlong gx,
                                                          jlongArray xShape, jlongArray kernel, jlongArray strides,
                                                          jlongArray dilation, jlongArray padBefore,
                                                          jlongArray padAfter, jlongArray out, jlong groups) {
  PYDL_JNI_BEGIN("col2im")
  patches_entry(env, true, dtype, gx, xShape, cols, kernel, strides, dilation, padBefore, padAfter, out, groups);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_pool(JNIEnv* env, jclass, jint dtype, jboolean max, jlong x,
                                                        jlongArray xShape, jlong y, jlong idx, jlongArray window,
                                                        jlongArray strides, jlongArray padBefore, jlongArray padAfter,
                                                        jlongArray out) {
  PYDL_JNI_BEGIN("pool")
  pool_entry(env, false, max, dtype, x, xShape, y, idx, window, strides, padBefore, padAfter, out);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_poolBackward(JNIEnv* env, jclass, jint dtype, jboolean max,
                                                                jlong gy, jlong idx, jlong gx, jlongArray xShape,
                                                                jlongArray window, jlongArray strides,
                                                                jlongArray padBefore, jlongArray padAfter,
                                                                jlongArray out) {
  PYDL_JNI_BEGIN("poolBackward")
  pool_entry(env, true, max, dtype, gx, xShape, gy, idx, window, strides, padBefore, padAfter, out);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_depthwiseConv(JNIEnv* env, jclass, jint dtype, jlong x,
                                                                 jlongArray xShape, jlong w, jlong bias, jlong y,
                                                                 jlongArray kernel, jlongArray strides,
                                                                 jlongArray dilation, jlongArray padBefore,
                                                                 jlongArray padAfter, jlongArray out, jlong dm) {
  PYDL_JNI_BEGIN("depthwiseConv")
  depthwise_entry(env, false, dtype, x, xShape, w, bias, y, 0, 0, kernel, strides, dilation, padBefore, padAfter, out,
                  dm);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_depthwiseConvBackward(
    JNIEnv* env, jclass, jint dtype, jlong x, jlongArray xShape, jlong w, jlong gy, jlong gx, jlong gw,
    jlongArray kernel, jlongArray strides, jlongArray dilation, jlongArray padBefore, jlongArray padAfter,
    jlongArray out, jlong dm) {
  PYDL_JNI_BEGIN("depthwiseConvBackward")
  depthwise_entry(env, true, dtype, x, xShape, w, 0, gy, gx, gw, kernel, strides, dilation, padBefore, padAfter, out,
                  dm);
  PYDL_JNI_END(env, )
}

}  // extern "C"
