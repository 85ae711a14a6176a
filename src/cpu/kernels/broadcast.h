// Numpy-style broadcasting for element-wise kernels of two or three inputs: shapes are
// right-aligned to kMaxBroadcastRank, every input dimension is 1 or the output's.
//
// The loop is the hot path of every broadcasting kernel, so MakeBroadcast merges neighbouring
// dimensions that every input walks alike (contiguously, or not at all) and ForEachBroadcast
// runs the innermost merged dimension as a plain loop, instantiated for each combination of
// inputs that advance or stay along it: equal shapes become one contiguous loop, a scalar or a
// last-dimension operand a loop with a constant index.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include "cpu/kernel.h"

namespace tpufleet::cpu {

constexpr int kMaxBroadcastRank = 6;

// The output's dimensions and each input's element strides (0 along broadcast axes), merged as
// above and right-aligned: leading unused dimensions are 1. Along the innermost dimension every
// stride is 0 or 1.
template <size_t N>
struct Broadcast {
  std::array<size_t, kMaxBroadcastRank> out{};
  std::array<std::array<size_t, kMaxBroadcastRank>, N> strides{};
};

// Checks that every input broadcasts to `out`'s shape (INVALID_ARGUMENT naming the shapes
// otherwise; UNIMPLEMENTED above kMaxBroadcastRank).
Result<Broadcast<2>> MakeBroadcast(const OpContext& c, const Tensor& a, const Tensor& b,
                                   const Tensor& out);
Result<Broadcast<3>> MakeBroadcast(const OpContext& c, const Tensor& a, const Tensor& b,
                                   const Tensor& d, const Tensor& out);

namespace broadcast_internal {

// f(i + j, base_k + j or base_k...) for j in [0, n): input k advances when bit k of Steps is set.
template <unsigned Steps, typename F, size_t... k>
void Row(F& f, size_t i, size_t n, std::array<size_t, sizeof...(k)> base,
         std::index_sequence<k...>) {
  for (size_t j = 0; j < n; ++j) f(i + j, (base[k] + (((Steps >> k) & 1u) != 0 ? j : 0))...);
}

// Every row of the output (the innermost dimension), the outer dimensions walked as an odometer.
template <unsigned Steps, size_t N, typename F>
void Rows(const Broadcast<N>& bc, F& f) {
  constexpr int kInner = kMaxBroadcastRank - 1;
  const size_t inner = bc.out[kInner];
  size_t rows = 1;
  for (int d = 0; d < kInner; ++d) rows *= bc.out[d];
  std::array<size_t, kMaxBroadcastRank> position{};
  std::array<size_t, N> index{};
  for (size_t row = 0; row < rows; ++row) {
    Row<Steps>(f, row * inner, inner, index, std::make_index_sequence<N>());
    for (int d = kInner - 1; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) index[k] += bc.strides[k][d];
      if (++position[d] < bc.out[d]) break;
      for (size_t k = 0; k < N; ++k) index[k] -= bc.strides[k][d] * bc.out[d];
      position[d] = 0;
    }
  }
}

}  // namespace broadcast_internal

// Calls f(i, index_0, ..., index_{N-1}) for every output element i with the element each input
// contributes to it, in output order.
template <size_t N, typename F>
void ForEachBroadcast(const Broadcast<N>& bc, F&& f) {
  for (size_t d : bc.out) {
    if (d == 0) return;
  }
  unsigned steps = 0;  // bit k: input k advances along the innermost dimension
  for (size_t k = 0; k < N; ++k) {
    if (bc.strides[k][kMaxBroadcastRank - 1] != 0) steps |= 1u << k;
  }
  [&]<unsigned... s>(std::integer_sequence<unsigned, s...>) {
    ((steps == s ? broadcast_internal::Rows<s>(bc, f) : void()), ...);
  }
  (std::make_integer_sequence<unsigned, 1u << N>());
}

}  // namespace tpufleet::cpu
