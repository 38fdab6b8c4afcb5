// Convolution path micro-benchmark for LeNet's two conv layers (W3), batch 64, float32, channels-last data:
//   conv1 x [64, 28, 28, 1]  -> 20 filters 5x5 -> [64, 24, 24, 20]
//   conv2 x [64, 12, 12, 20] -> 50 filters 5x5 -> [64, 8, 8, 50]
// Three paths, each timed for forward (with bias), backward-weights (kernel + bias) and backward-data:
//   im2col : pydl's own kernels (native/cpu/conv.cpp, compiled into this file) + OpenBLAS sgemm (scipy-openblas32)
//   direct : a plain direct NHWC kernel (vectorised over output channels), no patch buffer
//   onednn : oneDNN 2.6 (Debian libdnnl-dev) convolution primitives on NHWC memory (format "any" for weights
//            chosen by oneDNN; reorders of the weights are outside the timed region, as a framework would cache them)
// Prints the median milliseconds of 30 runs after 5 warm-ups per path and pass. Build and run: see README.md.
#include <cblas.h>
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <vector>

#include "../../native/cpu/conv.cpp"  // pydl's im2col / col2im (anonymous namespace: reachable from this file only)

extern "C" void scipy_openblas_set_num_threads(int);

using namespace pydl;

namespace {

struct Layer {
  const char* name;
  int64_t n, h, w, c, f, k;
  int64_t oh() const { return h - k + 1; }
  int64_t ow() const { return w - k + 1; }
};

// CONV_PATHS_CPU=1: process CPU time instead of wall time (for one thread on a busy machine: waiting for a core
// then does not count)
const bool kCpuTime = std::getenv("CONV_PATHS_CPU") != nullptr && std::getenv("CONV_PATHS_CPU")[0] == '1';

double now_ms() {
  if (!kCpuTime) return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double median_ms(const std::function<void()>& fn) {
  for (int i = 0; i < 5; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < 30; ++i) {
    double t0 = now_ms();
    fn();
    t.push_back(now_ms() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<float> randn(size_t n, unsigned seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d;
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

void sgemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float beta,
           float* c, int ldc) {
  scipy_cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
                    lda, b, ldb, beta, c, ldc);
}

struct Buffers {
  std::vector<float> x, w, b, y, gy, gx, gw, gb, cols;
};

// ---- im2col + GEMM (pydl) ----
void im2col_paths(const Layer& L, Buffers& B, double out[3]) {
  Dims xs, k, s, d, pb, pa, o;
  xs.n = 4;
  xs.v[0] = L.n, xs.v[1] = L.h, xs.v[2] = L.w, xs.v[3] = L.c;
  k.n = s.n = d.n = pb.n = pa.n = o.n = 2;
  for (int i = 0; i < 2; ++i) k.v[i] = L.k, s.v[i] = 1, d.v[i] = 1, pb.v[i] = 0, pa.v[i] = 0;
  o.v[0] = L.oh(), o.v[1] = L.ow();
  Geometry g = geometry(xs, k, s, d, pb, pa, o, 1, false);
  const int rows = static_cast<int>(L.n * L.oh() * L.ow()), kc = static_cast<int>(L.k * L.k * L.c),
            f = static_cast<int>(L.f);
  out[0] = median_ms([&] {
    opt::im2col<float>(g, B.x.data(), B.cols.data());
    for (int r = 0; r < rows; ++r) std::copy(B.b.begin(), B.b.end(), B.y.begin() + int64_t(r) * f);
    sgemm(false, false, rows, f, kc, B.cols.data(), kc, B.w.data(), f, 1.0f, B.y.data(), f);
  });
  std::printf("    (im2col alone %.3f ms, GEMM alone %.3f ms, col2im alone %.3f ms)\n",
              median_ms([&] { opt::im2col<float>(g, B.x.data(), B.cols.data()); }),
              median_ms([&] { sgemm(false, false, rows, f, kc, B.cols.data(), kc, B.w.data(), f, 0.0f, B.y.data(), f); }),
              median_ms([&] { opt::col2im<float>(g, B.cols.data(), B.gx.data()); }));
  std::printf("    (forward as y^T = w^T @ cols^T then a transpose: %.3f ms; backward-data GEMM alone %.3f ms, as gcols^T"
              " = w @ gy^T %.3f ms)\n",
              median_ms([&] {
                sgemm(true, true, f, rows, kc, B.w.data(), f, B.cols.data(), kc, 0.0f, B.gx.data(), rows);
                for (int i = 0; i < rows; ++i)
                  for (int j = 0; j < f; ++j) B.y[int64_t(i) * f + j] = B.gx[int64_t(j) * rows + i];
              }),
              median_ms([&] { sgemm(false, true, rows, kc, f, B.gy.data(), f, B.w.data(), f, 0.0f, B.cols.data(), kc); }),
              median_ms([&] { sgemm(false, true, kc, rows, f, B.w.data(), f, B.gy.data(), f, 0.0f, B.cols.data(), rows); }));
  std::printf("    (backward-weights as patches^T @ gy, no transpose: %.3f ms)\n", median_ms([&] {
    sgemm(true, false, kc, f, rows, B.cols.data(), kc, B.gy.data(), f, 0.0f, B.gw.data(), f);
  }));
  out[1] = median_ms([&] {  // as Ops.conv: gw^T = gy^T @ patches (patches kept from the forward), one transpose
    sgemm(true, false, f, kc, rows, B.gy.data(), f, B.cols.data(), kc, 0.0f, B.gx.data(), kc);
    for (int i = 0; i < kc; ++i)
      for (int j = 0; j < f; ++j) B.gw[int64_t(i) * f + j] = B.gx[int64_t(j) * kc + i];
    std::fill(B.gb.begin(), B.gb.end(), 0.0f);
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < f; ++j) B.gb[j] += B.gy[int64_t(r) * f + j];
  });
  out[2] = median_ms([&] {
    sgemm(false, true, rows, kc, f, B.gy.data(), f, B.w.data(), f, 0.0f, B.cols.data(), kc);
    opt::col2im<float>(g, B.cols.data(), B.gx.data());
  });
}

// ---- direct NHWC kernels ----
void direct_paths(const Layer& L, Buffers& B, double out[3]) {
  const int64_t OH = L.oh(), OW = L.ow(), C = L.c, F = L.f, K = L.k;
  out[0] = median_ms([&] {
#pragma omp parallel for collapse(2)
    for (int64_t n = 0; n < L.n; ++n)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          float* y = &B.y[((n * OH + oh) * OW + ow) * F];
          for (int64_t j = 0; j < F; ++j) y[j] = B.b[j];
          for (int64_t kh = 0; kh < K; ++kh)
            for (int64_t kw = 0; kw < K; ++kw) {
              const float* x = &B.x[((n * L.h + oh + kh) * L.w + ow + kw) * C];
              const float* w = &B.w[(kh * K + kw) * C * F];
              for (int64_t ci = 0; ci < C; ++ci) {
                const float xv = x[ci];
#pragma omp simd
                for (int64_t j = 0; j < F; ++j) y[j] += xv * w[ci * F + j];
              }
            }
        }
  });
  out[1] = median_ms([&] {  // gw[kh, kw, ci, f] = sum over n, oh, ow of x * gy: parallel over kernel rows
    std::fill(B.gb.begin(), B.gb.end(), 0.0f);
#pragma omp parallel for
    for (int64_t kh = 0; kh < K; ++kh) {
      std::fill(B.gw.begin() + kh * K * C * F, B.gw.begin() + (kh + 1) * K * C * F, 0.0f);
      for (int64_t n = 0; n < L.n; ++n)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            const float* gy = &B.gy[((n * OH + oh) * OW + ow) * F];
            for (int64_t kw = 0; kw < K; ++kw) {
              const float* x = &B.x[((n * L.h + oh + kh) * L.w + ow + kw) * C];
              float* gw = &B.gw[(kh * K + kw) * C * F];
              for (int64_t ci = 0; ci < C; ++ci) {
                const float xv = x[ci];
#pragma omp simd
                for (int64_t j = 0; j < F; ++j) gw[ci * F + j] += xv * gy[j];
              }
            }
          }
    }
    for (int64_t r = 0; r < L.n * OH * OW; ++r)
      for (int64_t j = 0; j < F; ++j) B.gb[j] += B.gy[r * F + j];
  });
  out[2] = median_ms([&] {  // gx[n, ih, iw, ci] = sum over kernel offsets of gy . w[kh, kw, ci, :]
#pragma omp parallel for
    for (int64_t n = 0; n < L.n; ++n) {
      std::fill(B.gx.begin() + n * L.h * L.w * C, B.gx.begin() + (n + 1) * L.h * L.w * C, 0.0f);
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          const float* gy = &B.gy[((n * OH + oh) * OW + ow) * F];
          for (int64_t kh = 0; kh < K; ++kh)
            for (int64_t kw = 0; kw < K; ++kw) {
              float* gx = &B.gx[((n * L.h + oh + kh) * L.w + ow + kw) * C];
              const float* w = &B.w[(kh * K + kw) * C * F];
              for (int64_t ci = 0; ci < C; ++ci) {
                float acc = 0;
#pragma omp simd reduction(+ : acc)
                for (int64_t j = 0; j < F; ++j) acc += gy[j] * w[ci * F + j];
                gx[ci] += acc;
              }
            }
        }
    }
  });
}

// ---- oneDNN ----
void onednn_paths(const Layer& L, Buffers& B, double out[3]) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  engine eng(engine::kind::cpu, 0);
  stream st(eng);
  memory::dims xd = {L.n, L.c, L.h, L.w}, wd = {L.f, L.c, L.k, L.k}, bd = {L.f}, yd = {L.n, L.f, L.oh(), L.ow()};
  memory::dims strides = {1, 1}, pad = {0, 0};
  auto x_md = memory::desc(xd, dt::f32, tag::nhwc), y_md = memory::desc(yd, dt::f32, tag::nhwc);
  auto w_any = memory::desc(wd, dt::f32, tag::any), b_md = memory::desc(bd, dt::f32, tag::x);
  // user weights in Keras's layout [kh, kw, ci, f] = oneDNN's hwio
  auto w_user = memory(memory::desc(wd, dt::f32, tag::hwio), eng, B.w.data());
  auto fwd_pd = convolution_forward::primitive_desc(
      convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, x_md, w_any, b_md, y_md,
                                strides, pad, pad),
      eng);
  memory x_m(x_md, eng, B.x.data()), y_m(y_md, eng, B.y.data()), b_m(b_md, eng, B.b.data());
  memory w_m(fwd_pd.weights_desc(), eng);
  reorder(w_user, w_m).execute(st, w_user, w_m);
  convolution_forward fwd(fwd_pd);
  out[0] = median_ms([&] {
    fwd.execute(st, {{DNNL_ARG_SRC, x_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_BIAS, b_m}, {DNNL_ARG_DST, y_m}});
    st.wait();
  });
  auto gy_m = memory(y_md, eng, B.gy.data()), gx_m = memory(x_md, eng, B.gx.data()),
       gb_m = memory(b_md, eng, B.gb.data());
  auto bww_pd = convolution_backward_weights::primitive_desc(
      convolution_backward_weights::desc(algorithm::convolution_direct, x_md, w_any, b_md, y_md, strides, pad, pad),
      eng, fwd_pd);
  memory gw_m(bww_pd.diff_weights_desc(), eng);
  convolution_backward_weights bww(bww_pd);
  memory gw_user(memory::desc(wd, dt::f32, tag::hwio), eng, B.gw.data());
  out[1] = median_ms([&] {  // includes the reorder of the weight gradient back to Keras's layout
    bww.execute(st, {{DNNL_ARG_SRC, x_m}, {DNNL_ARG_DIFF_DST, gy_m}, {DNNL_ARG_DIFF_WEIGHTS, gw_m},
                     {DNNL_ARG_DIFF_BIAS, gb_m}});
    reorder(gw_m, gw_user).execute(st, gw_m, gw_user);
    st.wait();
  });
  auto bwd_pd = convolution_backward_data::primitive_desc(
      convolution_backward_data::desc(algorithm::convolution_direct, x_md, w_any, y_md, strides, pad, pad), eng,
      fwd_pd);
  memory w_b(bwd_pd.weights_desc(), eng);
  reorder(w_user, w_b).execute(st, w_user, w_b);
  convolution_backward_data bwd(bwd_pd);
  out[2] = median_ms([&] {
    bwd.execute(st, {{DNNL_ARG_DIFF_DST, gy_m}, {DNNL_ARG_WEIGHTS, w_b}, {DNNL_ARG_DIFF_SRC, gx_m}});
    st.wait();
  });
  std::printf("    (oneDNN implementation: fwd %s, bwd-weights %s, bwd-data %s)\n", fwd_pd.impl_info_str(),
              bww_pd.impl_info_str(), bwd_pd.impl_info_str());
}

}  // namespace

// pydl's kernels ask these two (defined in native/cpu/library.cpp, which needs JNI; the benchmark sets them here)
namespace pydl {
bool reference_mode() { return false; }
int num_threads() { return omp_get_max_threads(); }
}  // namespace pydl

int main() {
  const int threads = omp_get_max_threads();
  scipy_openblas_set_num_threads(threads);
  std::printf("threads %d (OMP_NUM_THREADS); median %s ms of 30 runs: forward(+bias) / backward-weights(+bias) / "
              "backward-data\n", threads, kCpuTime ? "CPU" : "wall");
  const Layer layers[] = {{"conv1 64x28x28x1 -> 20, 5x5", 64, 28, 28, 1, 20, 5},
                          {"conv2 64x12x12x20 -> 50, 5x5", 64, 12, 12, 20, 50, 5}};
  for (const Layer& L : layers) {
    Buffers B;
    const int64_t nx = L.n * L.h * L.w * L.c, ny = L.n * L.oh() * L.ow() * L.f, nw = L.k * L.k * L.c * L.f;
    B.x = randn(nx, 1), B.w = randn(nw, 2), B.b = randn(L.f, 3), B.gy = randn(ny, 4);
    B.y.assign(ny, 0), B.gx.assign(std::max(nx, L.n * L.oh() * L.ow() * L.f * 2), 0), B.gw.assign(nw, 0), B.gb.assign(L.f, 0);
    B.cols.assign(L.n * L.oh() * L.ow() * L.k * L.k * L.c, 0);
    std::printf("%s (%.1f MFLOP per pass)\n", L.name, 2.0 * ny * L.k * L.k * L.c / 1e6);
    double t[3];
    im2col_paths(L, B, t);
    std::printf("  im2col+gemm  %7.3f %7.3f %7.3f\n", t[0], t[1], t[2]);
    direct_paths(L, B, t);
    std::printf("  direct       %7.3f %7.3f %7.3f\n", t[0], t[1], t[2]);
    onednn_paths(L, B, t);
    std::printf("  oneDNN 2.6   %7.3f %7.3f %7.3f\n", t[0], t[1], t[2]);
  }
  return 0;
}
