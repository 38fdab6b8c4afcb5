// Elementwise kernels: unary table (forward + backward), broadcasting binary, affine, inference batch
// normalization (per-channel affine) with a fused activation from the unary table.
#include <cinttypes>
#include <cmath>
#include <type_traits>
#include <vector>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {

const char* const kUnaryOpNames[] = {"neg",      "exp",  "log",    "sqrt",       "tanh",      "sigmoid",      "relu",
                                     "leaky_relu", "elu", "gelu",   "softplus",   "abs",       "square",
                                     "reciprocal", "gelu_tanh", "selu", "swish", "softsign", "hard_sigmoid", "relu6"};
const char* const kBinaryOpNames[] = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};

namespace {
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;  // sqrt(2/pi)
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;   // 1/sqrt(2*pi)
constexpr double kGeluC = 0.044715;
}  // namespace

// ==== reference: plain scalar double-precision loops, one switch per element =================================

namespace ref {

static double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

static double unary_f(UnaryOp op, double x, double a) {
  switch (op) {
    case UnaryOp::kNeg: return -x;
    case UnaryOp::kExp: return std::exp(x);
    case UnaryOp::kLog: return std::log(x);
    case UnaryOp::kSqrt: return std::sqrt(x);
    case UnaryOp::kTanh: return std::tanh(x);
    case UnaryOp::kSigmoid: return sigmoid(x);
    case UnaryOp::kRelu: return x < 0 ? 0.0 : x;
    case UnaryOp::kLeakyRelu: return x > 0 ? x : a * x;
    case UnaryOp::kElu: return x > 0 ? x : a * std::expm1(x);
    case UnaryOp::kGelu: return 0.5 * x * (1.0 + std::erf(x * M_SQRT1_2));
    case UnaryOp::kSoftplus: return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
    case UnaryOp::kAbs: return std::fabs(x);
    case UnaryOp::kSquare: return x * x;
    case UnaryOp::kReciprocal: return 1.0 / x;
    case UnaryOp::kGeluTanh: return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + kGeluC * x * x * x)));
    case UnaryOp::kSelu: return x > 0 ? kSeluScale * x : kSeluScale * kSeluAlpha * std::expm1(x);
    case UnaryOp::kSwish: return x * sigmoid(x);
    case UnaryOp::kSoftsign: return x / (1.0 + std::fabs(x));
    case UnaryOp::kHardSigmoid: return std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
    case UnaryOp::kRelu6: return std::min(std::max(x, 0.0), 6.0);
    default: return 0;
  }
}

/// f'(x) given x and y = f(x).
static double unary_df(UnaryOp op, double x, double y, double a) {
  switch (op) {
    case UnaryOp::kNeg: return -1.0;
    case UnaryOp::kExp: return y;
    case UnaryOp::kLog: return 1.0 / x;
    case UnaryOp::kSqrt: return 0.5 / y;
    case UnaryOp::kTanh: return 1.0 - y * y;
    case UnaryOp::kSigmoid: return y * (1.0 - y);
    case UnaryOp::kRelu: return x > 0 ? 1.0 : 0.0;
    case UnaryOp::kLeakyRelu: return x > 0 ? 1.0 : a;
    case UnaryOp::kElu: return x > 0 ? 1.0 : a * std::exp(x);
    case UnaryOp::kGelu: return 0.5 * (1.0 + std::erf(x * M_SQRT1_2)) + x * std::exp(-0.5 * x * x) * kInvSqrt2Pi;
    case UnaryOp::kSoftplus: return sigmoid(x);
    case UnaryOp::kAbs: return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0);
    case UnaryOp::kSquare: return 2.0 * x;
    case UnaryOp::kReciprocal: return -1.0 / (x * x);
    case UnaryOp::kGeluTanh: {
      double t = std::tanh(kSqrt2OverPi * (x + kGeluC * x * x * x));
      return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * kSqrt2OverPi * (1.0 + 3.0 * kGeluC * x * x);
    }
    case UnaryOp::kSelu: return x > 0 ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(x);
    case UnaryOp::kSwish: {
      double s = sigmoid(x);
      return s * (1.0 + x * (1.0 - s));
    }
    case UnaryOp::kSoftsign: {
      double d = 1.0 + std::fabs(x);
      return 1.0 / (d * d);
    }
    case UnaryOp::kHardSigmoid: return (x > -3.0 && x < 3.0) ? 1.0 / 6.0 : 0.0;
    case UnaryOp::kRelu6: return (x > 0 && x < 6.0) ? 1.0 : 0.0;
    default: return 0;
  }
}

template <class T>
void unary(UnaryOp op, const T* x, T* y, int64_t n, double a) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(unary_f(op, x[i], a));
}

template <class T>
void unary_backward(UnaryOp op, const T* x, const T* y, const T* gy, T* gx, int64_t n, double a) {
  for (int64_t i = 0; i < n; ++i) gx[i] = static_cast<T>(gy[i] * unary_df(op, x[i], y[i], a));
}

static double binary_f(BinaryOp op, double a, double b) {
  switch (op) {
    case BinaryOp::kAdd: return a + b;
    case BinaryOp::kSub: return a - b;
    case BinaryOp::kMul: return a * b;
    case BinaryOp::kDiv: return a / b;
    case BinaryOp::kPow: return std::pow(a, b);
    case BinaryOp::kMaximum: return (std::isnan(a) || std::isnan(b)) ? a + b : (a > b ? a : b);
    case BinaryOp::kMinimum: return (std::isnan(a) || std::isnan(b)) ? a + b : (a < b ? a : b);
    default: return 0;
  }
}

template <class T>
void binary(BinaryOp op, const T* a, const int64_t* as, const T* b, const int64_t* bs, T* out, const int64_t* shape,
            int nd) {
  int64_t numel = 1;
  for (int d = 0; d < nd; ++d) numel *= shape[d];
  for (int64_t i = 0; i < numel; ++i) {
    int64_t r = i, ao = 0, bo = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t c = r % shape[d];
      r /= shape[d];
      ao += c * as[d];
      bo += c * bs[d];
    }
    if (op == BinaryOp::kPow && std::is_same_v<T, float>)  // float pow in float, as the optimised kernel
      out[i] = std::pow(static_cast<float>(a[ao]), static_cast<float>(b[bo]));
    else
      out[i] = static_cast<T>(binary_f(op, a[ao], b[bo]));
  }
}

template <class T>
void affine(const T* x, T* y, int64_t n, double scale, double shift) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(x[i] * scale + shift);
}

/// Keras's formula element by element in double: gamma * (x - mean) / sqrt(var + eps) + beta, then act.
template <class T>
void batch_norm_inference(const BatchNormArgs& a, const T* x, T* y, const T* mean, const T* var, const T* gamma,
                          const T* beta) {
  for (int64_t r = 0; r < a.rows; ++r) {
    for (int64_t c = 0; c < a.channels; ++c) {
      double v = (x[r * a.ldx + c] - static_cast<double>(mean[c])) / std::sqrt(var[c] + a.epsilon);
      if (gamma) v *= gamma[c];
      if (beta) v += beta[c];
      y[r * a.ldy + c] = static_cast<T>(a.act < 0 ? v : unary_f(static_cast<UnaryOp>(a.act), v, a.alpha));
    }
  }
}

}  // namespace ref

// ==== optimised: one template instantiation per (op, dtype), vectorisable loops, OpenMP above the threshold ====

namespace opt {

#define PYDL_UNARY(NAME, FWD, BWD)                                   \
  struct NAME {                                                       \
    template <class T>                                                \
    static inline T f(T x, T a) {                                     \
      FWD;                                                            \
    }                                                                 \
    template <class T>                                                \
    static inline T df(T x, T y, T gy, T a) {                         \
      BWD;                                                            \
    }                                                                 \
  };

PYDL_UNARY(Neg, return -x, return -gy)
PYDL_UNARY(Exp, return vexp<T>(x), return gy * y)
PYDL_UNARY(Log, return std::log(x), return gy / x)
PYDL_UNARY(Sqrt, return std::sqrt(x), return gy * T(0.5) / y)
PYDL_UNARY(Tanh, return vtanh<T>(x), return gy * (T(1) - y * y))
PYDL_UNARY(Sigmoid, return vsigmoid<T>(x), return gy * y * (T(1) - y))
PYDL_UNARY(Relu, return x < T(0) ? T(0) : x, return x > T(0) ? gy : T(0))
PYDL_UNARY(LeakyRelu, return x > T(0) ? x : a * x, return x > T(0) ? gy : a * gy)
PYDL_UNARY(Elu, return x > T(0) ? x : a * (vexp<T>(x) - T(1)), return x > T(0) ? gy : gy * (y + a))
PYDL_UNARY(Gelu, return T(0.5) * x * (T(1) + std::erf(x * T(M_SQRT1_2))),
           return gy * (T(0.5) * (T(1) + std::erf(x * T(M_SQRT1_2))) +
                        x * vexp<T>(T(-0.5) * x * x) * T(kInvSqrt2Pi)))
PYDL_UNARY(Softplus, return std::max(x, T(0)) + std::log1p(vexp<T>(-std::fabs(x))), return gy * vsigmoid<T>(x))
PYDL_UNARY(Abs, return std::fabs(x), return x > T(0) ? gy : (x < T(0) ? -gy : T(0)))
PYDL_UNARY(Square, return x * x, return T(2) * x * gy)
PYDL_UNARY(Reciprocal, return T(1) / x, return -gy * y * y)
PYDL_UNARY(GeluTanh, return T(0.5) * x * (T(1) + vtanh<T>(T(kSqrt2OverPi) * (x + T(kGeluC) * x * x * x))),
           T t = vtanh<T>(T(kSqrt2OverPi) * (x + T(kGeluC) * x * x * x));
           return gy * (T(0.5) * (T(1) + t) +
                        T(0.5) * x * (T(1) - t * t) * T(kSqrt2OverPi) * (T(1) + T(3 * kGeluC) * x * x)))
PYDL_UNARY(Selu, return x > T(0) ? T(kSeluScale) * x : T(kSeluScale * kSeluAlpha) * (vexp<T>(x) - T(1)),
           return x > T(0) ? gy * T(kSeluScale) : gy * (y + T(kSeluScale * kSeluAlpha)))
PYDL_UNARY(Swish, return x * vsigmoid<T>(x), T s = vsigmoid<T>(x); return gy * s * (T(1) + x * (T(1) - s)))
PYDL_UNARY(Softsign, return x / (T(1) + std::fabs(x)), T d = T(1) + std::fabs(x); return gy / (d * d))
PYDL_UNARY(HardSigmoid, return std::min(std::max(x + T(3), T(0)), T(6)) * T(1.0 / 6.0),
           return (x > T(-3) && x < T(3)) ? gy * T(1.0 / 6.0) : T(0))
PYDL_UNARY(Relu6, return std::min(std::max(x, T(0)), T(6)), return (x > T(0) && x < T(6)) ? gy : T(0))
#undef PYDL_UNARY

template <class Op, class T>
void unary_kernel(const void* xv, void* yv, int64_t n, double alpha) {
  const T* x = static_cast<const T*>(xv);
  T* y = static_cast<T*>(yv);
  const T a = static_cast<T>(alpha);
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) y[i] = Op::template f<T>(x[i], a);
  });
}

template <class Op, class T>
void unary_backward_kernel(const void* xv, const void* yv, const void* gyv, void* gxv, int64_t n, double alpha) {
  const T* x = static_cast<const T*>(xv);
  const T* y = static_cast<const T*>(yv);
  const T* gy = static_cast<const T*>(gyv);
  T* gx = static_cast<T*>(gxv);
  const T a = static_cast<T>(alpha);
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) gx[i] = Op::template df<T>(x[i], y[i], gy[i], a);
  });
}

using UnaryFn = void (*)(const void*, void*, int64_t, double);
using UnaryBwdFn = void (*)(const void*, const void*, const void*, void*, int64_t, double);

#define PYDL_UNARY_OPS(M, T)                                                                               \
  M(Neg, T), M(Exp, T), M(Log, T), M(Sqrt, T), M(Tanh, T), M(Sigmoid, T), M(Relu, T), M(LeakyRelu, T),     \
      M(Elu, T), M(Gelu, T), M(Softplus, T), M(Abs, T), M(Square, T), M(Reciprocal, T), M(GeluTanh, T), \
      M(Selu, T), M(Swish, T), M(Softsign, T), M(HardSigmoid, T), M(Relu6, T)
#define PYDL_FWD(OP, T) &unary_kernel<OP, T>
#define PYDL_BWD(OP, T) &unary_backward_kernel<OP, T>

constexpr int kNumUnary = static_cast<int>(UnaryOp::kCount);
const UnaryFn kUnary[2][kNumUnary] = {{PYDL_UNARY_OPS(PYDL_FWD, float)}, {PYDL_UNARY_OPS(PYDL_FWD, double)}};
const UnaryBwdFn kUnaryBwd[2][kNumUnary] = {{PYDL_UNARY_OPS(PYDL_BWD, float)}, {PYDL_UNARY_OPS(PYDL_BWD, double)}};

// ---- inference batch normalization: y = act(x * s + t), s = gamma / sqrt(var + eps), t = beta - mean * s ----
struct Identity {
  template <class T>
  static inline T f(T x, T) {
    return x;
  }
};

template <class Op, class T>
void batch_norm_inference_kernel(const BatchNormArgs& a, const void* xv, void* yv, const void* meanv,
                                 const void* varv, const void* gammav, const void* betav) {
  const T* x = static_cast<const T*>(xv);
  T* y = static_cast<T*>(yv);
  const T *mean = static_cast<const T*>(meanv), *var = static_cast<const T*>(varv);
  const T *gamma = static_cast<const T*>(gammav), *beta = static_cast<const T*>(betav);
  const int64_t ch = a.channels;
  std::vector<T> st(2 * ch);  // per-channel scale and shift, folded in double
  T* s = st.data();
  T* t = s + ch;
  for (int64_t c = 0; c < ch; ++c) {
    double sc = (gamma ? static_cast<double>(gamma[c]) : 1.0) / std::sqrt(static_cast<double>(var[c]) + a.epsilon);
    s[c] = static_cast<T>(sc);
    t[c] = static_cast<T>((beta ? static_cast<double>(beta[c]) : 0.0) - mean[c] * sc);
  }
  const T al = static_cast<T>(a.alpha);
  parallel_rows(a.rows, ch, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * a.ldx;
      T* yr = y + r * a.ldy;
#pragma omp simd
      for (int64_t c = 0; c < ch; ++c) yr[c] = Op::template f<T>(xr[c] * s[c] + t[c], al);
    }
  });
}

using BatchNormFn = void (*)(const BatchNormArgs&, const void*, void*, const void*, const void*, const void*,
                             const void*);
#define PYDL_BN(OP, T) &batch_norm_inference_kernel<OP, T>
// index 0: no activation; 1 + op id: that unary op
const BatchNormFn kBatchNorm[2][kNumUnary + 1] = {{PYDL_BN(Identity, float), PYDL_UNARY_OPS(PYDL_BN, float)},
                                                  {PYDL_BN(Identity, double), PYDL_UNARY_OPS(PYDL_BN, double)}};
#undef PYDL_BN
#undef PYDL_UNARY_OPS
#undef PYDL_FWD
#undef PYDL_BWD

// ---- binary ----
struct Add { template <class T> static inline T f(T a, T b) { return a + b; } };
struct Sub { template <class T> static inline T f(T a, T b) { return a - b; } };
struct Mul { template <class T> static inline T f(T a, T b) { return a * b; } };
struct Div { template <class T> static inline T f(T a, T b) { return a / b; } };
struct Pow { template <class T> static inline T f(T a, T b) { return std::pow(a, b); } };
struct Maximum {
  template <class T> static inline T f(T a, T b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
};
struct Minimum {
  template <class T> static inline T f(T a, T b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
};

template <class Op, class T>
inline void binary_row(const T* a, int64_t sa, const T* b, int64_t sb, T* o, int64_t so, int64_t n) {
  if (so == 1) {
    if (sa == 1 && sb == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = Op::template f<T>(a[i], b[i]);
    } else if (sa == 1 && sb == 0) {
      const T bv = *b;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = Op::template f<T>(a[i], bv);
    } else if (sa == 0 && sb == 1) {
      const T av = *a;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = Op::template f<T>(av, b[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = Op::template f<T>(a[i * sa], b[i * sb]);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] = Op::template f<T>(a[i * sa], b[i * sb]);
  }
}

template <class Op, class T>
void binary_kernel(const void* av, const int64_t* as, const void* bv, const int64_t* bs, void* ov,
                   const int64_t* shape, int nd) {
  const T* a = static_cast<const T*>(av);
  const T* b = static_cast<const T*>(bv);
  T* o = static_cast<T*>(ov);
  int64_t os[kMaxDims];
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; --d) {
    os[d] = s;
    s *= shape[d];
  }
  const int64_t* strides[3] = {os, as, bs};
  StridedPlan<3> p(shape, strides, nd);
  const int64_t inner = p.inner(), rows = p.rows();
  const int64_t so = p.st[0][p.ndim - 1], sa = p.st[1][p.ndim - 1], sb = p.st[2][p.ndim - 1];
  if (rows == 1) {  // contiguous same-shape or scalar broadcast: split the single row
    parallel_for(inner, kParallelThreshold, [&](int64_t lo, int64_t hi) {
      binary_row<Op, T>(a + lo * sa, sa, b + lo * sb, sb, o + lo * so, so, hi - lo);
    });
    return;
  }
  parallel_rows(rows, inner, [&](int64_t r0, int64_t r1) {
    p.for_rows(r0, r1, [&](const int64_t* off) {
      binary_row<Op, T>(a + off[1], sa, b + off[2], sb, o + off[0], so, inner);
    });
  });
}

using BinaryFn = void (*)(const void*, const int64_t*, const void*, const int64_t*, void*, const int64_t*, int);
#define PYDL_BINARY_OPS(T)                                                                                  \
  &binary_kernel<Add, T>, &binary_kernel<Sub, T>, &binary_kernel<Mul, T>, &binary_kernel<Div, T>,          \
      &binary_kernel<Pow, T>, &binary_kernel<Maximum, T>, &binary_kernel<Minimum, T>
const BinaryFn kBinary[2][static_cast<int>(BinaryOp::kCount)] = {{PYDL_BINARY_OPS(float)},
                                                                   {PYDL_BINARY_OPS(double)}};
#undef PYDL_BINARY_OPS

template <class T>
void affine(const T* x, T* y, int64_t n, double scale, double shift) {
  const T sc = static_cast<T>(scale), sh = static_cast<T>(shift);
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) y[i] = x[i] * sc + sh;
  });
}

}  // namespace opt

// ==== dispatch ================================================================================================

void unary(UnaryOp op, int dtype, const void* x, void* y, int64_t n, double alpha) {
  if (reference_mode()) {
    dtype == kFloat32 ? ref::unary(op, static_cast<const float*>(x), static_cast<float*>(y), n, alpha)
                      : ref::unary(op, static_cast<const double*>(x), static_cast<double*>(y), n, alpha);
  } else {
    opt::kUnary[dtype][static_cast<int>(op)](x, y, n, alpha);
  }
}

void unary_backward(UnaryOp op, int dtype, const void* x, const void* y, const void* gy, void* gx, int64_t n,
                    double alpha) {
  if (reference_mode()) {
    if (dtype == kFloat32)
      ref::unary_backward(op, static_cast<const float*>(x), static_cast<const float*>(y),
                          static_cast<const float*>(gy), static_cast<float*>(gx), n, alpha);
    else
      ref::unary_backward(op, static_cast<const double*>(x), static_cast<const double*>(y),
                          static_cast<const double*>(gy), static_cast<double*>(gx), n, alpha);
  } else {
    opt::kUnaryBwd[dtype][static_cast<int>(op)](x, y, gy, gx, n, alpha);
  }
}

void binary(BinaryOp op, int dtype, const void* a, const int64_t* as, const void* b, const int64_t* bs, void* out,
            const int64_t* shape, int nd) {
  if (reference_mode()) {
    if (dtype == kFloat32)
      ref::binary(op, static_cast<const float*>(a), as, static_cast<const float*>(b), bs, static_cast<float*>(out),
                  shape, nd);
    else
      ref::binary(op, static_cast<const double*>(a), as, static_cast<const double*>(b), bs,
                  static_cast<double*>(out), shape, nd);
  } else {
    opt::kBinary[dtype][static_cast<int>(op)](a, as, b, bs, out, shape, nd);
  }
}

void affine(int dtype, const void* x, void* y, int64_t n, double scale, double shift) {
  bool r = reference_mode();
  if (dtype == kFloat32) {
    auto xp = static_cast<const float*>(x);
    auto yp = static_cast<float*>(y);
    r ? ref::affine(xp, yp, n, scale, shift) : opt::affine(xp, yp, n, scale, shift);
  } else {
    auto xp = static_cast<const double*>(x);
    auto yp = static_cast<double*>(y);
    r ? ref::affine(xp, yp, n, scale, shift) : opt::affine(xp, yp, n, scale, shift);
  }
}

void batch_norm_inference(int dtype, const BatchNormArgs& a, const void* x, void* y, const void* mean,
                          const void* var, const void* gamma, const void* beta) {
  if (reference_mode()) {
    if (dtype == kFloat32)
      ref::batch_norm_inference(a, static_cast<const float*>(x), static_cast<float*>(y),
                                static_cast<const float*>(mean), static_cast<const float*>(var),
                                static_cast<const float*>(gamma), static_cast<const float*>(beta));
    else
      ref::batch_norm_inference(a, static_cast<const double*>(x), static_cast<double*>(y),
                                static_cast<const double*>(mean), static_cast<const double*>(var),
                                static_cast<const double*>(gamma), static_cast<const double*>(beta));
  } else {
    opt::kBatchNorm[dtype][a.act + 1](a, x, y, mean, var, gamma, beta);
  }
}

}  // namespace pydl

// ==== JNI =====================================================================================================

using namespace pydl;

static UnaryOp unary_op(int op) {
  if (op < 0 || op >= static_cast<int>(UnaryOp::kCount))
    fail("unknown unary op id %d (valid: 0..%d)", op, static_cast<int>(UnaryOp::kCount) - 1);
  return static_cast<UnaryOp>(op);
}

extern "C" {

JNIEXPORT jobjectArray JNICALL Java_org_pydl_jni_NativeOps_unaryOpNames(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("unaryOpNames")
  return string_array(env, kUnaryOpNames, static_cast<int>(UnaryOp::kCount));
  PYDL_JNI_END(env, nullptr)
}

JNIEXPORT jobjectArray JNICALL Java_org_pydl_jni_NativeOps_binaryOpNames(JNIEnv* env, jclass) {
  PYDL_JNI_BEGIN("binaryOpNames")
  return string_array(env, kBinaryOpNames, static_cast<int>(BinaryOp::kCount));
  PYDL_JNI_END(env, nullptr)
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_unary(JNIEnv* env, jclass, jint op, jint dtype, jlong x, jlong y,
                                                         jlong n, jdouble alpha) {
  PYDL_JNI_BEGIN("unary")
  UnaryOp o = unary_op(op);
  check_float_dtype(dtype);
  check_count(n, "n");
  check_elems(x, n, dtype, "x");
  check_elems(y, n, dtype, "y");
  if (n == 0) return;
  unary(o, dtype, as_ptr<const void>(x), as_ptr<void>(y), n, alpha);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_unaryBackward(JNIEnv* env, jclass, jint op, jint dtype, jlong x,
                                                                 jlong y, jlong gy, jlong gx, jlong n,
                                                                 jdouble alpha) {
  PYDL_JNI_BEGIN("unaryBackward")
  UnaryOp o = unary_op(op);
  check_float_dtype(dtype);
  check_count(n, "n");
  check_elems(x, n, dtype, "x");
  check_elems(y, n, dtype, "y");
  check_elems(gy, n, dtype, "gy");
  check_elems(gx, n, dtype, "gx");
  if (n == 0) return;
  unary_backward(o, dtype, as_ptr<const void>(x), as_ptr<const void>(y), as_ptr<const void>(gy), as_ptr<void>(gx), n,
                 alpha);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_binary(JNIEnv* env, jclass, jint op, jint dtype, jlong a,
                                                          jlongArray aStrides, jlong b, jlongArray bStrides,
                                                          jlong out, jlongArray shape) {
  PYDL_JNI_BEGIN("binary")
  if (op < 0 || op >= static_cast<int>(BinaryOp::kCount))
    fail("unknown binary op id %d (valid: 0..%d)", op, static_cast<int>(BinaryOp::kCount) - 1);
  check_float_dtype(dtype);
  Dims sh = read_dims(env, shape, "shape");
  Dims as = read_dims(env, aStrides, "aStrides", sh.n);
  Dims bs = read_dims(env, bStrides, "bStrides", sh.n);
  int64_t numel = shape_numel(sh, "shape");
  check_strided(a, dtype, sh, as, "a");
  check_strided(b, dtype, sh, bs, "b");
  check_elems(out, numel, dtype, "out");
  if (numel == 0) return;
  binary(static_cast<BinaryOp>(op), dtype, as_ptr<const void>(a), as.v, as_ptr<const void>(b), bs.v,
         as_ptr<void>(out), sh.v, sh.n);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_affine(JNIEnv* env, jclass, jint dtype, jlong x, jlong y, jlong n,
                                                          jdouble scale, jdouble shift) {
  PYDL_JNI_BEGIN("affine")
  check_float_dtype(dtype);
  check_count(n, "n");
  check_elems(x, n, dtype, "x");
  check_elems(y, n, dtype, "y");
  if (n == 0) return;
  affine(dtype, as_ptr<const void>(x), as_ptr<void>(y), n, scale, shift);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_batchNormInference(JNIEnv* env, jclass, jint dtype, jlong x,
                                                                       jlong ldx, jlong y, jlong ldy, jlong rows,
                                                                       jlong channels, jlong mean, jlong var,
                                                                       jlong gamma, jlong beta, jdouble epsilon,
                                                                       jint act, jdouble alpha) {
  PYDL_JNI_BEGIN("batchNormInference")
  check_float_dtype(dtype);
  check_count(rows, "rows");
  check_count(channels, "channels");
  if (act != -1) unary_op(act);
  if (ldx < channels || ldy < channels)
    fail("row strides ldx=%" PRId64 ", ldy=%" PRId64 " must be >= channels=%" PRId64, static_cast<int64_t>(ldx),
         static_cast<int64_t>(ldy), static_cast<int64_t>(channels));
  if (!(epsilon > 0)) fail("epsilon must be > 0, received %g", epsilon);
  if (rows == 0 || channels == 0) return;
  check_elems(x, (rows - 1) * ldx + channels, dtype, "x");
  check_elems(y, (rows - 1) * ldy + channels, dtype, "y");
  check_elems(mean, channels, dtype, "mean");
  check_elems(var, channels, dtype, "var");
  if (gamma) check_elems(gamma, channels, dtype, "gamma");
  if (beta) check_elems(beta, channels, dtype, "beta");
  BatchNormArgs a{rows, channels, ldx, ldy, epsilon, act, alpha};
  batch_norm_inference(dtype, a, as_ptr<const void>(x), as_ptr<void>(y), as_ptr<const void>(mean),
                       as_ptr<const void>(var), gamma ? as_ptr<const void>(gamma) : nullptr,
                       beta ? as_ptr<const void>(beta) : nullptr);
  PYDL_JNI_END(env, )
}

}  // extern "C"
