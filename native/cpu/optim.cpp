// Optimizer updates (Keras semantics): SGD (momentum / Nesterov, L2 folded into the gradient), Adam/AdamW, RMSProp.
#include <cinttypes>
#include <cmath>

#include "pydl/jni_util.h"
#include "pydl/kernels.h"
#include "pydl/memory.h"
#include "pydl/parallel.h"

namespace pydl {

namespace {
double adam_lr_t(double lr, double b1, double b2, int64_t step) {
  double t = static_cast<double>(step);
  return lr * std::sqrt(1.0 - std::pow(b2, t)) / (1.0 - std::pow(b1, t));
}
}  // namespace

// ==== reference ===============================================================================================

namespace ref {
template <class T>
void sgd(T* p, const T* g, T* vel, int64_t n, double lr, double mom, bool nesterov, double wd) {
  for (int64_t i = 0; i < n; ++i) {
    double gi = static_cast<double>(g[i]) + wd * p[i];
    if (mom != 0.0) {
      double v = mom * vel[i] - lr * gi;
      vel[i] = static_cast<T>(v);
      p[i] = static_cast<T>(p[i] + (nesterov ? mom * v - lr * gi : v));
    } else {
      p[i] = static_cast<T>(p[i] - lr * gi);
    }
  }
}

template <class T>
void adam(T* p, const T* g, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps, int64_t step,
          double wd) {
  const double lr_t = adam_lr_t(lr, b1, b2, step);
  for (int64_t i = 0; i < n; ++i) {
    double pi = p[i];
    if (wd > 0) pi -= lr * wd * pi;
    double gi = g[i];
    double mi = b1 * m[i] + (1.0 - b1) * gi;
    double vi = b2 * v[i] + (1.0 - b2) * gi * gi;
    m[i] = static_cast<T>(mi);
    v[i] = static_cast<T>(vi);
    p[i] = static_cast<T>(pi - lr_t * mi / (std::sqrt(vi) + eps));
  }
}

template <class T>
void rmsprop(T* p, const T* g, T* sq, T* mom, int64_t n, double lr, double rho, double eps, double momentum) {
  for (int64_t i = 0; i < n; ++i) {
    double gi = g[i];
    double s = rho * sq[i] + (1.0 - rho) * gi * gi;
    sq[i] = static_cast<T>(s);
    double inc = lr * gi / std::sqrt(s + eps);
    if (momentum > 0) {
      double mo = momentum * mom[i] + inc;
      mom[i] = static_cast<T>(mo);
      p[i] = static_cast<T>(p[i] - mo);
    } else {
      p[i] = static_cast<T>(p[i] - inc);
    }
  }
}
}  // namespace ref

// ==== optimised ===============================================================================================

namespace opt {
template <class T>
void sgd(T* p, const T* g, T* vel, int64_t n, double lr, double momentum, bool nesterov, double wd) {
  const T a = static_cast<T>(lr), mo = static_cast<T>(momentum), w = static_cast<T>(wd);
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
    if (momentum == 0.0) {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) p[i] -= a * (g[i] + w * p[i]);
    } else if (nesterov) {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) {
        T gi = g[i] + w * p[i];
        T v = mo * vel[i] - a * gi;
        vel[i] = v;
        p[i] += mo * v - a * gi;
      }
    } else {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) {
        T v = mo * vel[i] - a * (g[i] + w * p[i]);
        vel[i] = v;
        p[i] += v;
      }
    }
  });
}

template <class T>
void adam(T* p, const T* g, T* m, T* v, int64_t n, double lr, double beta1, double beta2, double epsilon,
          int64_t step, double wd) {
  const T lr_t = static_cast<T>(adam_lr_t(lr, beta1, beta2, step));
  const T b1 = static_cast<T>(beta1), c1 = static_cast<T>(1.0 - beta1);
  const T b2 = static_cast<T>(beta2), c2 = static_cast<T>(1.0 - beta2);
  const T eps = static_cast<T>(epsilon);
  const T decay = static_cast<T>(wd > 0 ? 1.0 - lr * wd : 1.0);
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) {
      T gi = g[i];
      T mi = b1 * m[i] + c1 * gi;
      T vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - lr_t * mi / (std::sqrt(vi) + eps);
    }
  });
}

template <class T>
void rmsprop(T* p, const T* g, T* sq, T* mom, int64_t n, double lr, double rho_, double epsilon, double momentum) {
  const T a = static_cast<T>(lr), rho = static_cast<T>(rho_), c = static_cast<T>(1.0 - rho_);
  const T eps = static_cast<T>(epsilon), mo = static_cast<T>(momentum);
  parallel_for(n, kParallelThreshold, [&](int64_t b, int64_t e) {
    if (momentum > 0) {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) {
        T gi = g[i];
        T s = rho * sq[i] + c * gi * gi;
        sq[i] = s;
        T m = mo * mom[i] + a * gi / std::sqrt(s + eps);
        mom[i] = m;
        p[i] -= m;
      }
    } else {
#pragma omp simd
      for (int64_t i = b; i < e; ++i) {
        T gi = g[i];
        T s = rho * sq[i] + c * gi * gi;
        sq[i] = s;
        p[i] -= a * gi / std::sqrt(s + eps);
      }
    }
  });
}
}  // namespace opt

// ==== dispatch ================================================================================================

void sgd_update(int dtype, void* param, const void* grad, void* velocity, int64_t n, double lr, double momentum,
                bool nesterov, double weight_decay) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::sgd<T> : opt::sgd<T>)(static_cast<T*>(param), static_cast<const T*>(grad),
                                                              static_cast<T*>(velocity), n, lr, momentum, nesterov,
                                                              weight_decay));
}

void adam_update(int dtype, void* param, const void* grad, void* m, void* v, int64_t n, double lr, double beta1,
                 double beta2, double eps, int64_t step, double decoupled_weight_decay) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::adam<T> : opt::adam<T>)(static_cast<T*>(param), static_cast<const T*>(grad),
                                                                static_cast<T*>(m), static_cast<T*>(v), n, lr, beta1,
                                                                beta2, eps, step, decoupled_weight_decay));
}

void rmsprop_update(int dtype, void* param, const void* grad, void* sq, void* mom, int64_t n, double lr, double rho,
                    double eps, double momentum) {
  const bool r = reference_mode();
  PYDL_DISPATCH_FLOAT(dtype, (r ? ref::rmsprop<T> : opt::rmsprop<T>)(static_cast<T*>(param),
                                                                      static_cast<const T*>(grad), static_cast<T*>(sq),
                                                                      static_cast<T*>(mom), n, lr, rho, eps,
                                                                      momentum));
}

}  // namespace pydl

// ==== JNI =====================================================================================================

using namespace pydl;

namespace {
void check_finite(double v, const char* what) {
  if (!std::isfinite(v)) fail("%s = %g must be finite", what, v);
}
}  // namespace

extern "C" {

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_sgdUpdate(JNIEnv* env, jclass, jint dtype, jlong param,
                                                             jlong grad, jlong velocity, jlong n, jdouble lr,
                                                             jdouble momentum, jboolean nesterov,
                                                             jdouble weightDecay) {
  PYDL_JNI_BEGIN("sgdUpdate")
  check_float_dtype(dtype);
  check_count(n, "n");
  check_finite(lr, "lr");
  check_finite(momentum, "momentum");
  check_finite(weightDecay, "weightDecay");
  check_elems(param, n, dtype, "param");
  check_elems(grad, n, dtype, "grad");
  if (momentum != 0.0) check_elems(velocity, n, dtype, "velocity");
  if (n == 0) return;
  sgd_update(dtype, as_ptr<void>(param), as_ptr<const void>(grad), as_ptr<void>(velocity), n, lr, momentum,
             nesterov == JNI_TRUE, weightDecay);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_adamUpdate(JNIEnv* env, jclass, jint dtype, jlong param,
                                                              jlong grad, jlong m, jlong v, jlong n, jdouble lr,
                                                              jdouble beta1, jdouble beta2, jdouble eps, jlong step,
                                                              jdouble decoupledWeightDecay) {
  PYDL_JNI_BEGIN("adamUpdate")
  check_float_dtype(dtype);
  check_count(n, "n");
  if (step < 1) fail("step = %" PRId64 " is invalid (steps count from 1)", step);
  check_finite(lr, "lr");
  check_finite(eps, "eps");
  check_finite(decoupledWeightDecay, "decoupledWeightDecay");
  if (!(beta1 >= 0 && beta1 < 1)) fail("beta1 = %g is invalid (valid: 0 <= beta1 < 1)", beta1);
  if (!(beta2 >= 0 && beta2 < 1)) fail("beta2 = %g is invalid (valid: 0 <= beta2 < 1)", beta2);
  check_elems(param, n, dtype, "param");
  check_elems(grad, n, dtype, "grad");
  check_elems(m, n, dtype, "m");
  check_elems(v, n, dtype, "v");
  if (n == 0) return;
  adam_update(dtype, as_ptr<void>(param), as_ptr<const void>(grad), as_ptr<void>(m), as_ptr<void>(v), n, lr, beta1,
              beta2, eps, step, decoupledWeightDecay);
  PYDL_JNI_END(env, )
}

JNIEXPORT void JNICALL Java_org_pydl_jni_NativeOps_rmspropUpdate(JNIEnv* env, jclass, jint dtype, jlong param,
                                                                 jlong grad, jlong sq, jlong mom, jlong n, jdouble lr,
                                                                 jdouble rho, jdouble eps, jdouble momentum) {
  PYDL_JNI_BEGIN("rmspropUpdate")
  check_float_dtype(dtype);
  check_count(n, "n");
  check_finite(lr, "lr");
  check_finite(rho, "rho");
  check_finite(eps, "eps");
  check_finite(momentum, "momentum");
  check_elems(param, n, dtype, "param");
  check_elems(grad, n, dtype, "grad");
  check_elems(sq, n, dtype, "sq");
  if (momentum > 0) check_elems(mom, n, dtype, "mom");
  if (n == 0) return;
  rmsprop_update(dtype, as_ptr<void>(param), as_ptr<const void>(grad), as_ptr<void>(sq), as_ptr<void>(mom), n, lr,
                 rho, eps, momentum);
  PYDL_JNI_END(env, )
}

}  // extern "C"
