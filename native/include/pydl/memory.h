// Native memory owned by pydl: 64-byte aligned blocks recorded in a registry (address -> size), and the range
// checks every entry point runs before it reads or writes memory.
#pragma once

#include <cstdint>

#include "pydl/jni_util.h"

namespace pydl {

enum DType : int { kFloat32 = 0, kFloat64 = 1, kInt32 = 2 };

/// Runs the statements with `T` = float for kFloat32, else double (callers check the dtype first).
#define PYDL_DISPATCH_FLOAT(dtype, ...)                                 \
  do {                                                                  \
    if ((dtype) == ::pydl::kFloat32) { using T = float; __VA_ARGS__; }  \
    else { using T = double; __VA_ARGS__; }                             \
  } while (0)

/// Element size of a dtype code; unknown code -> ArgumentError.
int64_t dtype_size(int dtype);
const char* dtype_name(int dtype);
/// Accepts float32/float64 only (float kernels); int32 or unknown -> ArgumentError.
void check_float_dtype(int dtype);
/// Accepts any known dtype.
void check_dtype(int dtype);

/// n >= 0, else ArgumentError naming `what`.
void check_count(int64_t n, const char* what);

void* mem_alloc(int64_t bytes);
void mem_free(int64_t address);
int64_t mem_allocated_bytes();
/// Releases every cached (freed, kept for reuse) block to the C library; returns the bytes released.
int64_t mem_trim();
/// Bytes of freed blocks kept for reuse (not counted by mem_allocated_bytes).
int64_t mem_cached_bytes();

/// [addr, addr+bytes) must lie inside one live block (a 0-byte range must still point into/at the end of one).
/// Null or foreign addresses -> ArgumentError("<what> range [0x..., +N bytes) is outside any live pydl allocation").
void check_range(int64_t addr, int64_t bytes, const char* what);

/// check_range for n contiguous elements of dtype (overflow-checked).
void check_elems(int64_t addr, int64_t n, int dtype, const char* what);

/// Strided operand over `shape` (element strides >= 0, same length as shape): checks the reachable element range
/// [0, sum((shape_i - 1) * stride_i)] and rejects negative strides or sizes.
void check_strided(int64_t addr, int dtype, const Dims& shape, const Dims& strides, const char* what);

/// Number of elements of a shape (sizes >= 0, overflow-checked).
int64_t shape_numel(const Dims& shape, const char* what);

template <class T>
inline T* as_ptr(int64_t addr) {
  return reinterpret_cast<T*>(static_cast<uintptr_t>(addr));
}

}  // namespace pydl
