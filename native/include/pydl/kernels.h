// Device-neutral kernel declarations. The CPU implementations live in native/cpu/<family>.cpp; every kernel has a
// plain scalar reference implementation and an optimised one, picked by reference_mode(). Arguments are assumed
// valid here (the JNI entry points validate them).
#pragma once

#include <cstdint>

namespace pydl {

// ---- library state (library.cpp) ----
bool reference_mode();
void set_reference_mode(bool on);
int num_threads();
void set_num_threads(int n);

// ---- op tables (ids are the index into these arrays) ----
enum class UnaryOp : int {
  kNeg, kExp, kLog, kSqrt, kTanh, kSigmoid, kRelu, kLeakyRelu, kElu, kGelu, kSoftplus, kAbs, kSquare,
  kReciprocal, kGeluTanh, kSelu, kSwish, kSoftsign, kHardSigmoid, kRelu6, kCount
};
enum class BinaryOp : int { kAdd, kSub, kMul, kDiv, kPow, kMaximum, kMinimum, kCount };
enum class ReduceOp : int { kSum, kMax, kMin, kCount };

extern const char* const kUnaryOpNames[static_cast<int>(UnaryOp::kCount)];
extern const char* const kBinaryOpNames[static_cast<int>(BinaryOp::kCount)];
extern const char* const kReduceOpNames[static_cast<int>(ReduceOp::kCount)];

// ---- memory.cpp ----
void fill(int dtype, void* dst, int64_t n, double value);
/// ndim <= kMaxDims; strides in elements.
void copy_strided(int dtype, const void* src, const int64_t* src_strides, void* dst, const int64_t* dst_strides,
                  const int64_t* shape, int ndim);
void cast(int src_dtype, const void* src, int dst_dtype, void* dst, int64_t n);

// ---- elementwise.cpp ----
void unary(UnaryOp op, int dtype, const void* x, void* y, int64_t n, double alpha);
void unary_backward(UnaryOp op, int dtype, const void* x, const void* y, const void* gy, void* gx, int64_t n,
                    double alpha);
/// out contiguous over shape; a/b strided (0 = broadcast).
void binary(BinaryOp op, int dtype, const void* a, const int64_t* a_strides, const void* b, const int64_t* b_strides,
            void* out, const int64_t* shape, int ndim);
void affine(int dtype, const void* x, void* y, int64_t n, double scale, double shift);
/// Inference batch normalization over [rows, channels] with row strides ldx/ldy (x and y may be the same):
/// y = act(gamma * (x - mean) / sqrt(var + epsilon) + beta); act = -1 (none) or a UnaryOp id with its alpha.
struct BatchNormArgs {
  int64_t rows, channels, ldx, ldy;
  double epsilon;
  int act;
  double alpha;
};
void batch_norm_inference(int dtype, const BatchNormArgs& a, const void* x, void* y, const void* mean,
                          const void* var, const void* gamma, const void* beta);

// ---- reduce.cpp ----
void reduce(ReduceOp op, int dtype, const void* x, void* out, int64_t outer, int64_t n, int64_t inner);
void argmax(int dtype, const void* x, int32_t* out, int64_t outer, int64_t n, int64_t inner);
void softmax(int dtype, const void* x, void* y, int64_t outer, int64_t n, int64_t inner, bool log);
void softmax_backward(int dtype, const void* y, const void* gy, void* gx, int64_t outer, int64_t n, int64_t inner,
                      bool log);

// ---- blas.cpp ----
/// Called once at load: routes OpenBLAS's parallel jobs through the OpenMP pool (env PYDL_BLAS_OWN_THREADS=1 keeps
/// OpenBLAS's own pthread pool) and sets its thread count.
void install_blas_threading();
void gemm(int dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const void* a,
          int64_t lda, int64_t stride_a, const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
          int64_t ldc, int64_t stride_c, int64_t batch);

// ---- loss.cpp (labels/indices already validated) ----
void softmax_cross_entropy(int dtype, const void* logits, const int32_t* labels, void* loss, void* probs, int64_t n,
                           int64_t c);
void softmax_cross_entropy_backward(int dtype, const void* probs, const int32_t* labels, const void* gy, void* gx,
                                    int64_t n, int64_t c);
void gather(int dtype, const void* x, const int32_t* idx, void* out, int64_t n, int64_t c);
void scatter_add(int dtype, const void* gy, const int32_t* idx, void* gx, int64_t n, int64_t c);
void gather_rows(int dtype, const void* table, const int32_t* idx, void* out, int64_t n, int64_t d);
void scatter_add_rows(int dtype, const void* g, const int32_t* idx, void* table, int64_t n, int64_t d);
int64_t count_non_finite(int dtype, const void* x, int64_t n);

// ---- random.cpp ----
void dropout_mask(int dtype, void* mask, int64_t n, double rate, uint64_t seed);
void uniform(int dtype, void* out, int64_t n, double low, double high, uint64_t seed);
void normal(int dtype, void* out, int64_t n, double mean, double std, uint64_t seed);

// ---- optim.cpp ----
void sgd_update(int dtype, void* param, const void* grad, void* velocity, int64_t n, double lr, double momentum,
                bool nesterov, double weight_decay);
void adam_update(int dtype, void* param, const void* grad, void* m, void* v, int64_t n, double lr, double beta1,
                 double beta2, double eps, int64_t step, double decoupled_weight_decay);
void rmsprop_update(int dtype, void* param, const void* grad, void* sq, void* mom, int64_t n, double lr, double rho,
                    double eps, double momentum);

// ---- rnn.cpp (fused recurrent sequences; layouts and cell ids in rnn.cpp) ----
extern const char* const kRnnCellNames[4];
/// Elements of the workspace rnn_forward fills and rnn_backward reads.
int64_t rnn_workspace_size(int cell, int64_t batch, int64_t time, int64_t units);
void rnn_forward(int cell, int dtype, int64_t batch, int64_t time, int64_t features, int64_t units, const void* x,
                 const void* kernel, const void* recurrent_kernel, const void* bias, const void* h0, const void* c0,
                 const void* mask, bool go_backwards, bool zero_output_for_mask, bool reverse_output, void* out,
                 void* h_last, void* c_last, void* work);
void rnn_backward(int cell, int dtype, int64_t batch, int64_t time, int64_t features, int64_t units, const void* x,
                  const void* kernel, const void* recurrent_kernel, const void* mask, bool go_backwards,
                  bool zero_output_for_mask, bool reverse_output, const void* work, const void* g_out,
                  const void* g_h_last, const void* g_c_last, void* gx, void* g_kernel, void* g_recurrent_kernel,
                  void* g_bias, void* g_h0, void* g_c0);

}  // namespace pydl
