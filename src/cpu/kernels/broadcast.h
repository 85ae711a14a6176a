// Numpy-style broadcasting for element-wise kernels of two or three inputs: shapes are
// right-aligned to kMaxBroadcastRank, every input dimension is 1 or the output's.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

#include "cpu/kernel.h"

namespace tpufleet::cpu {

constexpr int kMaxBroadcastRank = 6;

// The output's dimensions and each input's element strides (0 along broadcast axes).
template <size_t N>
struct Broadcast {
  std::array<size_t, kMaxBroadcastRank> out{};
  std::array<std::array<size_t, kMaxBroadcastRank>, N> strides{};
  bool same_shapes = false;  // every input has the output's shape: element i reads index i
};

// Checks that every input broadcasts to `out`'s shape (INVALID_ARGUMENT naming the shapes
// otherwise; UNIMPLEMENTED above kMaxBroadcastRank).
Result<Broadcast<2>> MakeBroadcast(const OpContext& c, const Tensor& a, const Tensor& b,
                                   const Tensor& out);
Result<Broadcast<3>> MakeBroadcast(const OpContext& c, const Tensor& a, const Tensor& b,
                                   const Tensor& d, const Tensor& out);

// Calls f(i, index_0, ..., index_{N-1}) for every output element i with the element each input
// contributes to it, in output order.
template <size_t N, typename F>
void ForEachBroadcast(const Broadcast<N>& bc, F&& f) {
  std::array<size_t, kMaxBroadcastRank> position{};
  std::array<size_t, N> index{};
  size_t total = 1;
  for (size_t d : bc.out) total *= d;
  if (bc.same_shapes) {
    for (size_t i = 0; i < total; ++i) {
      [&]<size_t... k>(std::index_sequence<k...>) { f(i, ((void)k, i)...); }
      (std::make_index_sequence<N>());
    }
    return;
  }
  for (size_t i = 0; i < total; ++i) {
    [&]<size_t... k>(std::index_sequence<k...>) { f(i, index[k]...); }
    (std::make_index_sequence<N>());
    for (int d = kMaxBroadcastRank - 1; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) index[k] += bc.strides[k][d];
      if (++position[d] < bc.out[d]) break;
      for (size_t k = 0; k < N; ++k) index[k] -= bc.strides[k][d] * bc.out[d];
      position[d] = 0;
    }
  }
}

}  // namespace tpufleet::cpu
