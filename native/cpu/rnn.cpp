// Fused recurrent layers over a whole sequence (SimpleRNN, LSTM, GRU with reset_after true or false; activation tanh,
// recurrent activation sigmoid) and their backpropagation through time.
//
// Forward: one GEMM projects every step's input ([B*T, F] @ kernel), then per step one product h @ recurrent_kernel
// (two dependent ones for GRU reset_after=false; the kernel packed once per sequence, see "per-step product") and
// one fused gate kernel that adds the biases, applies the activations, updates the states, applies the mask and
// writes the output. What backward needs is kept in a workspace (layout below). Backward: per step one fused
// gate-gradient kernel and one product dz @ recurrent_kernel^T for the gradient of the previous state; then one GEMM
// each for d kernel, d recurrent_kernel and d x over all steps (d x only when x needs a gradient).
//
// Layouts (row-major, "time" is the input's time index t, whatever the processing direction):
//   x [B, T, F], kernel [F, G], recurrent_kernel [U, G], G = gates * U (SimpleRNN 1, GRU 3, LSTM 4 gates; Keras's
//   gate order), bias [G] (GRU reset_after: [2, G] = input bias, recurrent bias), h0/c0/hT/cT [B, U], mask [B, T]
//   (nonzero = real step), out [B, T, U] in processing order (or input order with reverse_output).
//   Workspace: Z [B, T, G] (activated gates), HP [B, T, U] (h before step t), E [B, T, U] (LSTM: c before step t;
//   GRU reset_after: the candidate's recurrent part h @ R_h + b_h; GRU reset_after=false: r * h). SimpleRNN has no E.
//
// Masked step (mask 0): states are carried over unchanged; the output repeats the previous output (zeros before the
// first real step), or is zeros when zero_output_for_mask (Keras's rnn backend).
//
// The reference implementation is the same driver with scalar double-precision gate math, single-threaded, the
// plain reference GEMM (gemm() follows reference_mode()) and no packed per-step kernel.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <tuple>
#include <type_traits>
#include <vector>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {

const char* const kRnnCellNames[] = {"simple_rnn", "lstm", "gru", "gru_reset_before"};

namespace {

enum Cell : int { kSimple = 0, kLstm = 1, kGruAfter = 2, kGruBefore = 3, kCellCount = 4 };

int64_t gate_count(int cell) { return cell == kSimple ? 1 : cell == kLstm ? 4 : 3; }

/// Rows of the per-step kernels are split over threads above this many elements per step.
constexpr int64_t kRnnGrain = 4096;

struct FastMath {
  template <class T>
  static PYDL_VECTOR_MATH T sigmoid(T x) { return vsigmoid<T>(x); }
  template <class T>
  static PYDL_VECTOR_MATH T tanh(T x) { return vtanh<T>(x); }
  static constexpr bool kParallel = true;
};

struct RefMath {
  template <class T>
  static T sigmoid(T x) {
    double v = x;
    return static_cast<T>(v >= 0 ? 1.0 / (1.0 + std::exp(-v)) : std::exp(v) / (1.0 + std::exp(v)));
  }
  template <class T>
  static T tanh(T x) { return static_cast<T>(std::tanh(static_cast<double>(x))); }
  static constexpr bool kParallel = false;
};

template <class M, class F>
void for_rows(int64_t rows, int64_t row_elems, F&& f) {
  if (!M::kParallel) {
    if (rows > 0) f(int64_t{0}, rows);
    return;
  }
  parallel_for(rows, std::max<int64_t>(1, kRnnGrain / std::max<int64_t>(row_elems, 1)), std::forward<F>(f), 1);
}

template <class T>
struct Seq {
  int cell;
  int64_t B, T_, F, U, G;
  bool backwards, zero_out, reverse_out;
  const T* x;
  const T* W;
  const T* R;
  const T* mask;  // may be null
  T* Z;
  T* HP;
  T* E;
  int64_t time(int64_t s) const { return backwards ? T_ - 1 - s : s; }
  int64_t out_index(int64_t s) const { return reverse_out ? time(s) : s; }
  bool real(int64_t b, int64_t t) const { return mask == nullptr || mask[b * T_ + t] != T(0); }
};

template <class T>
void gemm_t(int dtype, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
            int64_t ldb, double beta, T* c, int64_t ldc) {
  gemm(dtype, ta, tb, m, n, k, 1.0, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

template <class T>
constexpr int dtype_of() { return std::is_same_v<T, float> ? kFloat32 : kFloat64; }

// ==== per-step product ========================================================================================
// C [M, N] (+)= A [M, K] @ B [K, N], M small (the batch), B the recurrent kernel (or its transpose), the same at
// every step. OpenBLAS packs B (~1 MB) again at every call, a third of the time of such small products. Here B is
// packed once per sequence into column panels of NR = 2 vectors (panel j: B[k, j*NR .. j*NR+NR) for k = 0..K-1,
// contiguous), and a register-blocked kernel accumulates MR rows x NR columns over all of K, so a panel (16 KB for
// K = 256 floats) stays in L1 while the rows of A pass over it. Column panels are split over threads. Used when
// units is a multiple of NR and not in reference mode; otherwise gemm() on the unpacked matrix.

template <class T>
struct VecOf;
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(32), aligned(4)));  // 8 floats, unaligned access allowed
};
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(32), aligned(8)));
};
template <class T>
using Vec = typename VecOf<T>::type;

template <class T>
constexpr int64_t kPanel = 64 / sizeof(T);  // NR: two vectors

/// B [K, N] (leading dimension ldb, N a multiple of NR) packed into N / NR panels of K x NR.
template <class T>
std::vector<T> pack_panels(const T* B, int64_t K, int64_t N, int64_t ldb, bool transposed) {
  constexpr int64_t NR = kPanel<T>;
  std::vector<T> P(static_cast<size_t>(K * N));
  for (int64_t j = 0; j < N / NR; ++j)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t c = 0; c < NR; ++c)  // transposed: B[k, n] = src[n, k]
        P[(j * K + k) * NR + c] = transposed ? B[(j * NR + c) * ldb + k] : B[k * ldb + j * NR + c];
  return P;
}

template <class T, int MR, bool ACC>
PYDL_VECTOR_MATH void step_block(const T* A, int64_t lda, const T* P, T* C, int64_t ldc, int64_t K) {
  constexpr int W = 32 / sizeof(T);
  Vec<T> c0[MR], c1[MR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    if (ACC) {
      c0[r] = *reinterpret_cast<const Vec<T>*>(C + r * ldc);
      c1[r] = *reinterpret_cast<const Vec<T>*>(C + r * ldc + W);
    } else {
      c0[r] = Vec<T>{};
      c1[r] = Vec<T>{};
    }
  }
  for (int64_t k = 0; k < K; ++k) {
    const Vec<T> b0 = *reinterpret_cast<const Vec<T>*>(P + k * 2 * W);
    const Vec<T> b1 = *reinterpret_cast<const Vec<T>*>(P + k * 2 * W + W);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const T a = A[r * lda + k];
      c0[r] += a * b0;
      c1[r] += a * b1;
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    *reinterpret_cast<Vec<T>*>(C + r * ldc) = c0[r];
    *reinterpret_cast<Vec<T>*>(C + r * ldc + W) = c1[r];
  }
}

template <class T, bool ACC>
void step_panel(int64_t M, int64_t K, const T* A, int64_t lda, const T* P, T* C, int64_t ldc) {
  constexpr int MR = 6;
  int64_t i = 0;
  for (; i + MR <= M; i += MR) step_block<T, MR, ACC>(A + i * lda, lda, P, C + i * ldc, ldc, K);
  switch (M - i) {
    case 5: step_block<T, 5, ACC>(A + i * lda, lda, P, C + i * ldc, ldc, K); break;
    case 4: step_block<T, 4, ACC>(A + i * lda, lda, P, C + i * ldc, ldc, K); break;
    case 3: step_block<T, 3, ACC>(A + i * lda, lda, P, C + i * ldc, ldc, K); break;
    case 2: step_block<T, 2, ACC>(A + i * lda, lda, P, C + i * ldc, ldc, K); break;
    case 1: step_block<T, 1, ACC>(A + i * lda, lda, P, C + i * ldc, ldc, K); break;
    default: break;
  }
}

/// The recurrent kernel (or its transpose) for the per-step products: packed panels when `packed`, else the matrix.
template <class T>
struct StepMatrix {
  const T* B;       // unpacked [K_total, N_total], leading dimension ldb
  int64_t ldb;
  std::vector<T> P;  // packed panels (empty when not packed)
  int64_t K_total;   // rows of the packed matrix (panel stride = K_total * NR)

  StepMatrix(const T* b, int64_t k_total, int64_t n_total, int64_t ld, bool transposed, bool packed)
      : B(b), ldb(ld), K_total(k_total) {
    if (packed) P = pack_panels(b, k_total, n_total, ld, transposed);
  }

  /// C = A @ B[k0:k0+K, n0:n0+N] (beta 0) or C += ... (beta 1). Unpacked transposed matrices go through gemm's transB.
  void apply(int64_t M, int64_t N, int64_t K, int64_t k0, int64_t n0, const T* A, int64_t lda, double beta, T* C,
             int64_t ldc, bool transposed) const {
    constexpr int64_t NR = kPanel<T>;
    if (P.empty()) {
      const T* b = transposed ? B + n0 * ldb + k0 : B + k0 * ldb + n0;
      gemm(dtype_of<T>(), false, transposed, M, N, K, 1.0, A, lda, 0, b, ldb, 0, beta, C, ldc, 0, 1);
      return;
    }
    const T* base = P.data() + (n0 / NR) * K_total * NR + k0 * NR;
    const int64_t stride = K_total * NR;
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(M * K, 1));
    parallel_for(N / NR, grain, [&](int64_t j0, int64_t j1) {
      for (int64_t j = j0; j < j1; ++j) {
        if (beta == 0.0) step_panel<T, false>(M, K, A, lda, base + j * stride, C + j * NR, ldc);
        else step_panel<T, true>(M, K, A, lda, base + j * stride, C + j * NR, ldc);
      }
    }, 1);
  }
};

template <class T>
bool use_packed(int64_t U) { return !reference_mode() && U % kPanel<T> == 0; }

// ==== forward =================================================================================================

template <class M, class T>
void forward(const Seq<T>& q, const T* bias, const T* h0, const T* c0, T* out, T* hT, T* cT) {
  constexpr int dt = dtype_of<T>();
  const int64_t B = q.B, TT = q.T_, U = q.U, G = q.G, ldz = TT * G, ldh = TT * U;
  // input projection of every step at once (biases are added by the gate kernels)
  gemm_t<T>(dt, false, false, B * TT, G, q.F, q.x, q.F, q.W, G, 0.0, q.Z, G);
  const StepMatrix<T> R(q.R, U, G, G, false, use_packed<T>(U));
  std::vector<T> mtmp;  // GRU: the recurrent products of one step
  if (q.cell == kGruAfter || q.cell == kGruBefore) mtmp.resize(static_cast<size_t>(B * G));
  const T* bi = bias;                                                          // input bias [G] or null
  const T* br = bias != nullptr && q.cell == kGruAfter ? bias + G : nullptr;  // GRU reset_after recurrent bias
  {  // states before the first step: h0/c0 or zeros
    const int64_t t0 = q.time(0);
    for (int64_t b = 0; b < B; ++b) {
      T* hp = q.HP + b * ldh + t0 * U;
      if (h0) std::memcpy(hp, h0 + b * U, sizeof(T) * U); else std::fill(hp, hp + U, T(0));
      if (q.cell == kLstm) {
        T* cp = q.E + b * ldh + t0 * U;
        if (c0) std::memcpy(cp, c0 + b * U, sizeof(T) * U); else std::fill(cp, cp + U, T(0));
      }
    }
  }
  for (int64_t s = 0; s < TT; ++s) {
    const int64_t t = q.time(s);
    const bool last = s == TT - 1;
    const int64_t tn = last ? 0 : q.time(s + 1);
    T* hnext_base = last ? hT : q.HP + tn * U;
    const int64_t ldn = last ? U : ldh;
    T* cnext_base = q.cell != kLstm ? nullptr : last ? cT : q.E + tn * U;
    const T* hp_base = q.HP + t * U;
    T* z_base = q.Z + t * G;
    const int64_t o = q.out_index(s), op = s > 0 ? q.out_index(s - 1) : 0;
    // recurrent products
    if (q.cell == kSimple || q.cell == kLstm) {
      R.apply(B, G, U, 0, 0, hp_base, ldh, 1.0, z_base, ldz, false);
    } else if (q.cell == kGruAfter) {
      R.apply(B, G, U, 0, 0, hp_base, ldh, 0.0, mtmp.data(), G, false);
    } else {
      R.apply(B, 2 * U, U, 0, 0, hp_base, ldh, 0.0, mtmp.data(), G, false);
      // phase 1: z, r and r * h (the input of the candidate's recurrent product)
      for_rows<M>(B, 3 * U, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          T* z = z_base + b * ldz;
          const T* m = mtmp.data() + b * G;
          const T* hp = hp_base + b * ldh;
          T* rh = q.E + b * ldh + t * U;
#pragma omp simd
          for (int64_t j = 0; j < 2 * U; ++j) z[j] = M::sigmoid(z[j] + (bi ? bi[j] : T(0)) + m[j]);
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) rh[j] = z[U + j] * hp[j];
        }
      });
      R.apply(B, U, U, 0, 2 * U, q.E + t * U, ldh, 0.0, mtmp.data(), G, false);
    }
    for_rows<M>(B, G, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        T* z = z_base + b * ldz;
        const T* hp = hp_base + b * ldh;
        T* hn = hnext_base + b * ldn;
        if (q.cell == kSimple) {
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T h = M::tanh(z[j] + (bi ? bi[j] : T(0)));
            z[j] = h;
            hn[j] = h;
          }
        } else if (q.cell == kLstm) {
          const T* cp = q.E + b * ldh + t * U;
          T* cn = cnext_base + b * ldn;
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T i = M::sigmoid(z[j] + (bi ? bi[j] : T(0)));
            T f = M::sigmoid(z[U + j] + (bi ? bi[U + j] : T(0)));
            T g = M::tanh(z[2 * U + j] + (bi ? bi[2 * U + j] : T(0)));
            T og = M::sigmoid(z[3 * U + j] + (bi ? bi[3 * U + j] : T(0)));
            T c = f * cp[j] + i * g;
            z[j] = i;
            z[U + j] = f;
            z[2 * U + j] = g;
            z[3 * U + j] = og;
            cn[j] = c;
            hn[j] = og * M::tanh(c);
          }
          if (!q.real(b, t)) std::memcpy(cn, cp, sizeof(T) * U);
        } else if (q.cell == kGruAfter) {
          const T* m = mtmp.data() + b * G;
          T* mh = q.E + b * ldh + t * U;
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T zg = M::sigmoid(z[j] + (bi ? bi[j] : T(0)) + m[j] + (br ? br[j] : T(0)));
            T r = M::sigmoid(z[U + j] + (bi ? bi[U + j] : T(0)) + m[U + j] + (br ? br[U + j] : T(0)));
            T mhv = m[2 * U + j] + (br ? br[2 * U + j] : T(0));
            T hh = M::tanh(z[2 * U + j] + (bi ? bi[2 * U + j] : T(0)) + r * mhv);
            z[j] = zg;
            z[U + j] = r;
            z[2 * U + j] = hh;
            mh[j] = mhv;
            hn[j] = zg * hp[j] + (T(1) - zg) * hh;
          }
        } else {  // GRU reset_after=false, phase 2: mtmp holds (r * h) @ R_h
          const T* m = mtmp.data() + b * G;
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T zg = z[j];
            T hh = M::tanh(z[2 * U + j] + (bi ? bi[2 * U + j] : T(0)) + m[j]);
            z[2 * U + j] = hh;
            hn[j] = zg * hp[j] + (T(1) - zg) * hh;
          }
        }
        const bool real = q.real(b, t);
        if (!real) std::memcpy(hn, hp, sizeof(T) * U);
        T* ob = out + b * TT * U;
        if (real) std::memcpy(ob + o * U, hn, sizeof(T) * U);
        else if (q.zero_out || s == 0) std::fill(ob + o * U, ob + (o + 1) * U, T(0));
        else std::memcpy(ob + o * U, ob + op * U, sizeof(T) * U);
      }
    });
  }
}

// ==== backward ================================================================================================

template <class T>
void column_sums(const T* a, int64_t rows, int64_t cols, T* out) {
  std::vector<double> acc(static_cast<size_t>(cols), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = a + r * cols;
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) acc[j] += row[j];
  }
  for (int64_t j = 0; j < cols; ++j) out[j] = static_cast<T>(acc[j]);
}

template <class M, class T>
void backward(const Seq<T>& q, const T* gout, const T* ghT, const T* gcT, T* gx, T* gW, T* gR, T* gbias, T* gh0,
              T* gc0) {
  constexpr int dt = dtype_of<T>();
  const int64_t B = q.B, TT = q.T_, U = q.U, G = q.G, ldz = TT * G, ldh = TT * U;
  // every row of dZ (and dM) is written at its step before it is read: no zero fill of these large buffers
  std::unique_ptr<T[]> dZ(new T[static_cast<size_t>(B * TT * G)]);
  std::unique_ptr<T[]> dM;  // GRU reset_after: gradient of the recurrent products h @ R + b_r
  if (q.cell == kGruAfter) dM.reset(new T[static_cast<size_t>(B * TT * G)]);
  std::vector<T> dh(static_cast<size_t>(B * U), T(0)), dhp(dh.size()), dO(dh.size(), T(0)), tmp;
  std::vector<T> dc(q.cell == kLstm ? dh.size() : 0, T(0));
  if (ghT) std::memcpy(dh.data(), ghT, sizeof(T) * B * U);
  if (gcT && q.cell == kLstm) std::memcpy(dc.data(), gcT, sizeof(T) * B * U);
  if (q.cell == kGruBefore) tmp.resize(dh.size());
  // the per-step dh products: dz @ recurrent_kernel^T, i.e. the packed transpose [G, U] of the kernel
  const StepMatrix<T> RT(q.R, G, U, G, true, use_packed<T>(U));
  T* const dz_all = dZ.get();
  T* const dm_all = q.cell == kGruAfter ? dM.get() : dz_all;
  for (int64_t s = TT - 1; s >= 0; --s) {
    const int64_t t = q.time(s), o = q.out_index(s);
    for_rows<M>(B, G, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const T* z = q.Z + b * ldz + t * G;
        const T* hp = q.HP + b * ldh + t * U;
        T* dz = dz_all + b * ldz + t * G;
        T* dhb = dh.data() + b * U;
        T* dpb = dhp.data() + b * U;
        T* dob = dO.data() + b * U;
        const T* go = gout ? gout + b * TT * U + o * U : nullptr;
        if (!q.real(b, t)) {  // states carried: gradients pass through; the gates get none
          std::fill(dz, dz + G, T(0));
          if (q.cell == kGruAfter) std::fill(dm_all + b * ldz + t * G, dm_all + b * ldz + (t + 1) * G, T(0));
          std::memcpy(dpb, dhb, sizeof(T) * U);
          if (q.zero_out) {
            std::fill(dob, dob + U, T(0));
          } else if (go) {
#pragma omp simd
            for (int64_t j = 0; j < U; ++j) dob[j] += go[j];
          }
          continue;
        }
        // dh of the new state: carried state gradient + output gradient (this step's and repeated ones)
#pragma omp simd
        for (int64_t j = 0; j < U; ++j) {
          dhb[j] += dob[j] + (go ? go[j] : T(0));
          dob[j] = T(0);
        }
        if (q.cell == kSimple) {
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            dz[j] = dhb[j] * (T(1) - z[j] * z[j]);
            dpb[j] = T(0);
          }
        } else if (q.cell == kLstm) {
          const T* cp = q.E + b * ldh + t * U;
          T* dcb = dc.data() + b * U;
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T i = z[j], f = z[U + j], g = z[2 * U + j], og = z[3 * U + j];
            T c = f * cp[j] + i * g;
            T tc = M::tanh(c);
            T dcn = dcb[j] + dhb[j] * og * (T(1) - tc * tc);
            dz[j] = dcn * g * i * (T(1) - i);
            dz[U + j] = dcn * cp[j] * f * (T(1) - f);
            dz[2 * U + j] = dcn * i * (T(1) - g * g);
            dz[3 * U + j] = dhb[j] * tc * og * (T(1) - og);
            dcb[j] = dcn * f;
            dpb[j] = T(0);
          }
        } else if (q.cell == kGruAfter) {
          const T* mh = q.E + b * ldh + t * U;
          T* dm = dm_all + b * ldz + t * G;
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T zg = z[j], r = z[U + j], hh = z[2 * U + j];
            T dzg = dhb[j] * (hp[j] - hh) * zg * (T(1) - zg);
            T dhh = dhb[j] * (T(1) - zg) * (T(1) - hh * hh);
            T dr = dhh * mh[j] * r * (T(1) - r);
            dz[j] = dzg;
            dz[U + j] = dr;
            dz[2 * U + j] = dhh;
            dm[j] = dzg;
            dm[U + j] = dr;
            dm[2 * U + j] = dhh * r;
            dpb[j] = dhb[j] * zg;
          }
        } else {  // GRU reset_after=false, phase 1 (the reset gate's gradient needs (r*h)'s, after the GEMM)
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T zg = z[j], hh = z[2 * U + j];
            dz[j] = dhb[j] * (hp[j] - hh) * zg * (T(1) - zg);
            dz[U + j] = T(0);
            dz[2 * U + j] = dhb[j] * (T(1) - zg) * (T(1) - hh * hh);
            dpb[j] = dhb[j] * zg;
          }
        }
      }
    });
    if (q.cell == kGruBefore) {
      // d(r*h) = d(candidate) @ R_h^T; then dr and the direct part of dh
      RT.apply(B, U, U, 2 * U, 0, dz_all + t * G + 2 * U, ldz, 0.0, tmp.data(), U, true);
      for_rows<M>(B, 2 * U, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
          if (!q.real(b, t)) continue;
          const T* z = q.Z + b * ldz + t * G;
          const T* hp = q.HP + b * ldh + t * U;
          const T* d = tmp.data() + b * U;
          T* dz = dz_all + b * ldz + t * G;
          T* dpb = dhp.data() + b * U;
#pragma omp simd
          for (int64_t j = 0; j < U; ++j) {
            T r = z[U + j];
            dz[U + j] = d[j] * hp[j] * r * (T(1) - r);
            dpb[j] += d[j] * r;
          }
        }
      });
      RT.apply(B, U, 2 * U, 0, 0, dz_all + t * G, ldz, 1.0, dhp.data(), U, true);
    } else {
      RT.apply(B, U, G, 0, 0, dm_all + t * G, ldz, 1.0, dhp.data(), U, true);
    }
    dh.swap(dhp);
  }
  if (gh0) std::memcpy(gh0, dh.data(), sizeof(T) * B * U);
  if (gc0) {
    if (q.cell == kLstm) std::memcpy(gc0, dc.data(), sizeof(T) * B * U);
    else std::fill(gc0, gc0 + B * U, T(0));
  }
  const int64_t N = B * TT;
  if (gW) gemm_t<T>(dt, true, false, q.F, G, N, q.x, q.F, dz_all, G, 0.0, gW, G);
  if (gx) gemm_t<T>(dt, false, true, N, q.F, G, dz_all, G, q.W, G, 0.0, gx, q.F);
  if (gR) {
    if (q.cell == kGruBefore) {
      gemm_t<T>(dt, true, false, U, 2 * U, N, q.HP, U, dz_all, G, 0.0, gR, G);
      gemm_t<T>(dt, true, false, U, U, N, q.E, U, dz_all + 2 * U, G, 0.0, gR + 2 * U, G);
    } else {
      gemm_t<T>(dt, true, false, U, G, N, q.HP, U, dm_all, G, 0.0, gR, G);
    }
  }
  if (gbias) {
    column_sums(dz_all, N, G, gbias);
    if (q.cell == kGruAfter) column_sums(dm_all, N, G, gbias + G);
  }
}

template <class T>
Seq<T> make_seq(int cell, int64_t B, int64_t T_, int64_t F, int64_t U, bool backwards, bool zero_out,
                bool reverse_out, const void* x, const void* W, const void* R, const void* mask, void* work) {
  Seq<T> q;
  q.cell = cell;
  q.B = B;
  q.T_ = T_;
  q.F = F;
  q.U = U;
  q.G = gate_count(cell) * U;
  q.backwards = backwards;
  q.zero_out = zero_out;
  q.reverse_out = reverse_out;
  q.x = static_cast<const T*>(x);
  q.W = static_cast<const T*>(W);
  q.R = static_cast<const T*>(R);
  q.mask = static_cast<const T*>(mask);
  q.Z = static_cast<T*>(work);
  q.HP = q.Z + B * T_ * q.G;
  q.E = q.HP + B * T_ * U;
  return q;
}

}  // namespace

int64_t rnn_workspace_size(int cell, int64_t batch, int64_t time, int64_t units) {
  return batch * time * units * (gate_count(cell) + 1 + (cell == kSimple ? 0 : 1));
}

void rnn_forward(int cell, int dtype, int64_t B, int64_t T_, int64_t F, int64_t U, const void* x, const void* W,
                 const void* R, const void* bias, const void* h0, const void* c0, const void* mask, bool backwards,
                 bool zero_out, bool reverse_out, void* out, void* hT, void* cT, void* work) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, {
    auto q = make_seq<T>(cell, B, T_, F, U, backwards, zero_out, reverse_out, x, W, R, mask, work);
    auto args = std::make_tuple(static_cast<const T*>(bias), static_cast<const T*>(h0), static_cast<const T*>(c0),
                                static_cast<T*>(out), static_cast<T*>(hT), static_cast<T*>(cT));
    r ? std::apply([&](auto... a) { forward<RefMath, T>(q, a...); }, args)
      : std::apply([&](auto... a) { forward<FastMath, T>(q, a...); }, args);
  });
}

void rnn_backward(int cell, int dtype, int64_t B, int64_t T_, int64_t F, int64_t U, const void* x, const void* W,
                  const void* R, const void* mask, bool backwards, bool zero_out, bool reverse_out, const void* work,
                  const void* gout, const void* ghT, const void* gcT, void* gx, void* gW, void* gR, void* gbias,
                  void* gh0, void* gc0) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, {
    auto q = make_seq<T>(cell, B, T_, F, U, backwards, zero_out, reverse_out, x, W, R, mask, const_cast<void*>(work));
    auto args = std::make_tuple(static_cast<const T*>(gout), static_cast<const T*>(ghT), static_cast<const T*>(gcT),
                                static_cast<T*>(gx), static_cast<T*>(gW), static_cast<T*>(gR), static_cast<T*>(gbias),
                                static_cast<T*>(gh0), static_cast<T*>(gc0));
    r ? std::apply([&](auto... a) { backward<RefMath, T>(q, a...); }, args)
      : std::apply([&](auto... a) { backward<FastMath, T>(q, a...); }, args);
  });
}

}  // namespace pydl

// ==== JNI =====================================================================================================

using namespace pydl;

namespace {
struct RnnShape {
  int cell, dtype;
  int64_t B, T, F, U, G;
};

RnnShape check_shape(jint cell, jint dtype, jlong B, jlong T, jlong F, jlong U) {
  if (cell < 0 || cell >= kCellCount) fail("unknown recurrent cell id %d (0..%d)", static_cast<int>(cell), kCellCount - 1);
  check_float_dtype(dtype);
  if (B <= 0 || T <= 0 || F <= 0 || U <= 0)
    fail("batch, time, features and units must be positive, received %" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64,
         static_cast<int64_t>(B), static_cast<int64_t>(T), static_cast<int64_t>(F), static_cast<int64_t>(U));
  const int64_t G = gate_count(cell) * U;
  int64_t n;
  if (__builtin_mul_overflow(B, T, &n) || __builtin_mul_overflow(n, std::max<int64_t>(G, F), &n) || n > INT32_MAX ||
      G > INT32_MAX)
    fail("sequence of %" PRId64 " x %" PRId64 " steps with %" PRId64 " gate columns exceeds the 32-bit BLAS limit",
         static_cast<int64_t>(B), static_cast<int64_t>(T), G);
  return {cell, dtype, B, T, F, U, G};
}

/// addr 0 = absent (allowed when `optional`), else n elements must lie in one live block.
void check_operand(jlong addr, int64_t n, int dtype, const char* what, bool optional) {
  if (addr == 0) {
    if (!optional) fail("%s is required (address 0)", what);
    return;
  }
  check_elems(addr, n, dtype, what);
}

template <class P>
P* ptr_or_null(jlong a) { return a == 0 ? nullptr : as_ptr<P>(a); }
}  // namespace

extern "C" {

JNIEXPORT jobjectArray JNICALL Java_org_pydl_jni_NativeOps_rnnCellNames(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("rnnCellNames")
  return string_array(env, kRnnCellNames, kCellCount);
  PYDL_JNI_END(env, nullptr)
}

JNIEXPORT jlong JNICALL Java_org_pydl_jni_NativeOps_rnnWorkspaceSize(JNIEnv* env, jclass, jint cell, jlong batch,
                                                                      jlong time, jlong units) {
  PYDL_JNI_BEGIN("rnnWorkspaceSize")
  RnnShape s = check_shape(cell, kFloat32, batch, time, 1, units);
  return rnn_workspace_size(s.cell, s.B, s.T, s.U);
  PYDL_JNI_END(env, 0)
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_rnnForward(
    JNIEnv* env, jclass, jint cell, jint dtype, jlong batch, jlong time, jlong features, jlong units, jlong x,
    jlong kernel, jlong recurrentKernel, jlong bias, jlong h0, jlong c0, jlong mask, jboolean goBackwards,
    jboolean zeroOutputForMask, jboolean reverseOutput, jlong out, jlong hT, jlong cT, jlong work) {
  PYDL_JNI_BEGIN("rnnForward")
  RnnShape s = check_shape(cell, dtype, batch, time, features, units);
  const int64_t BT = s.B * s.T, BU = s.B * s.U;
  check_operand(x, BT * s.F, dtype, "x", false);
  check_operand(kernel, s.F * s.G, dtype, "kernel", false);
  check_operand(recurrentKernel, s.U * s.G, dtype, "recurrent_kernel", false);
  check_operand(bias, s.cell == kGruAfter ? 2 * s.G : s.G, dtype, "bias", true);
  check_operand(h0, BU, dtype, "h0", true);
  check_operand(c0, BU, dtype, "c0", true);
  check_operand(mask, BT, dtype, "mask", true);
  check_operand(out, BT * s.U, dtype, "out", false);
  check_operand(hT, BU, dtype, "hT", false);
  check_operand(cT, BU, dtype, "cT", s.cell != kLstm);
  check_operand(work, rnn_workspace_size(s.cell, s.B, s.T, s.U), dtype, "work", false);
  rnn_forward(s.cell, dtype, s.B, s.T, s.F, s.U, as_ptr<const void>(x), as_ptr<const void>(kernel),
              as_ptr<const void>(recurrentKernel), ptr_or_null<const void>(bias), ptr_or_null<const void>(h0),
              ptr_or_null<const void>(c0), ptr_or_null<const void>(mask), goBackwards == JNI_TRUE,
              zeroOutputForMask == JNI_TRUE, reverseOutput == JNI_TRUE, as_ptr<void>(out), as_ptr<void>(hT),
              ptr_or_null<void>(cT), as_ptr<void>(work));
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_rnnBackward(
    JNIEnv* env, jclass, jint cell, jint dtype, jlong batch, jlong time, jlong features, jlong units, jlong x,
    jlong kernel, jlong recurrentKernel, jlong mask, jboolean goBackwards, jboolean zeroOutputForMask,
    jboolean reverseOutput, jlong work, jlong gOut, jlong ghT, jlong gcT, jlong gx, jlong gKernel,
    jlong gRecurrentKernel, jlong gBias, jlong gh0, jlong gc0) {
  PYDL_JNI_BEGIN("rnnBackward")
  RnnShape s = check_shape(cell, dtype, batch, time, features, units);
  const int64_t BT = s.B * s.T, BU = s.B * s.U;
  check_operand(x, BT * s.F, dtype, "x", false);
  check_operand(kernel, s.F * s.G, dtype, "kernel", false);
  check_operand(recurrentKernel, s.U * s.G, dtype, "recurrent_kernel", false);
  check_operand(mask, BT, dtype, "mask", true);
  check_operand(work, rnn_workspace_size(s.cell, s.B, s.T, s.U), dtype, "work", false);
  check_operand(gOut, BT * s.U, dtype, "gOut", true);
  check_operand(ghT, BU, dtype, "ghT", true);
  check_operand(gcT, BU, dtype, "gcT", true);
  check_operand(gx, BT * s.F, dtype, "gx", true);
  check_operand(gKernel, s.F * s.G, dtype, "gKernel", true);
  check_operand(gRecurrentKernel, s.U * s.G, dtype, "gRecurrentKernel", true);
  check_operand(gBias, s.cell == kGruAfter ? 2 * s.G : s.G, dtype, "gBias", true);
  check_operand(gh0, BU, dtype, "gh0", true);
  check_operand(gc0, BU, dtype, "gc0", true);
  rnn_backward(s.cell, dtype, s.B, s.T, s.F, s.U, as_ptr<const void>(x), as_ptr<const void>(kernel),
               as_ptr<const void>(recurrentKernel), ptr_or_null<const void>(mask), goBackwards == JNI_TRUE,
               zeroOutputForMask == JNI_TRUE, reverseOutput == JNI_TRUE, as_ptr<const void>(work),
               ptr_or_null<const void>(gOut), ptr_or_null<const void>(ghT), ptr_or_null<const void>(gcT),
               ptr_or_null<void>(gx), ptr_or_null<void>(gKernel), ptr_or_null<void>(gRecurrentKernel),
               ptr_or_null<void>(gBias), ptr_or_null<void>(gh0), ptr_or_null<void>(gc0));
  PYDL_JNI_END(env, )
}

}  // extern "C"
