#include "cpu/kernels/broadcast.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace tpufleet::cpu {
namespace {

size_t AlignedDim(const Tensor& t, int i) {
  int d = i - (kMaxBroadcastRank - t.rank());
  return d < 0 ? 1 : static_cast<size_t>(t.shape[d]);
}

template <size_t N>
Result<Broadcast<N>> Make(const OpContext& c, const std::array<const Tensor*, N>& inputs,
                          const Tensor& out) {
  auto describe_all = [&] {
    std::string text;
    for (const Tensor* t : inputs) text += Describe(*t) + (t == inputs.back() ? "" : " and ");
    return text;
  };
  for (const Tensor* t : inputs) {
    if (t->rank() > kMaxBroadcastRank)
      return c.Unsupported(fmt::format("broadcasting tensors of rank above {}", kMaxBroadcastRank));
  }
  if (out.rank() > kMaxBroadcastRank)
    return c.Unsupported(fmt::format("broadcasting tensors of rank above {}", kMaxBroadcastRank));
  Broadcast<N> full;  // one dimension per aligned dimension, before merging
  std::array<size_t, N> step;
  step.fill(1);
  for (int i = kMaxBroadcastRank - 1; i >= 0; --i) {
    size_t dout = AlignedDim(out, i), broadcast = 1;
    for (size_t k = 0; k < N; ++k) {
      size_t d = AlignedDim(*inputs[k], i);
      if (d != dout && d != 1) {
        return c.Invalid(fmt::format("cannot broadcast {} to {}", describe_all(), Describe(out)));
      }
      if (d != 1) broadcast = d;
      full.strides[k][i] = d == 1 ? 0 : step[k];
      step[k] *= d;
    }
    if (broadcast != dout) {
      return c.Invalid(fmt::format("broadcasting {} gives dimension {} where the output {} has {}",
                                   describe_all(), broadcast, Describe(out), dout));
    }
    full.out[i] = dout;
  }
  // From the innermost dimension out, dimensions of 1 are dropped and a dimension folds into the
  // merged one inside it when every input's stride continues that one's walk (or both are 0).
  Broadcast<N> bc;
  bc.out.fill(1);
  int at = kMaxBroadcastRank;  // the outermost merged dimension so far
  for (int i = kMaxBroadcastRank - 1; i >= 0; --i) {
    if (full.out[i] == 1) continue;
    bool folds = at < kMaxBroadcastRank;
    for (size_t k = 0; folds && k < N; ++k)
      folds = full.strides[k][i] == bc.strides[k][at] * bc.out[at];
    if (folds) {
      bc.out[at] *= full.out[i];
      continue;
    }
    --at;
    bc.out[at] = full.out[i];
    for (size_t k = 0; k < N; ++k) bc.strides[k][at] = full.strides[k][i];
  }
  return bc;
}

}  // namespace

Result<Broadcast<2>> MakeBroadcast(const OpContext& c, const Tensor& a, const Tensor& b,
                                   const Tensor& out) {
  return Make<2>(c, {&a, &b}, out);
}

Result<Broadcast<3>> MakeBroadcast(const OpContext& c, const Tensor& a, const Tensor& b,
                                   const Tensor& d, const Tensor& out) {
  return Make<3>(c, {&a, &b, &d}, out);
}

}  // namespace tpufleet::cpu
