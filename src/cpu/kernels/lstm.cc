// UNIDIRECTIONAL_SEQUENCE_LSTM in TensorFlow Lite's full-integer form ("8x8_16", what the
// converter's int8 post-training quantization writes): int8 input, weights and output state,
// int32 gate biases, an int16 cell state whose scale is a power of two, gate pre-activations in
// Q3.12 and gate outputs in Q0.15 (gemmlowp's 16-bit logistic and tanh). Without peepholes,
// projection, layer normalization or CIFG, which the float and hybrid forms and other exports
// use; those are refused by name.
//
// The output and cell states are the operator's variable tensors: as in TFLite they start at
// zero (the int8 one at its zero point) and carry over from one invocation to the next.
#include <fmt/format.h>

#include <array>
#include <cmath>

#include "cpu/fixed_point.h"
#include "cpu/fixed_point16.h"
#include "cpu/kernels/kernels.h"
#include "cpu/shape_math.h"

namespace tpufleet::cpu {
namespace {

// The operator's inputs (TFLite's lstm_shared.h). Each of the four gates has input-to-gate
// weights (1 input, 2 forget, 3 cell, 4 output), recurrent weights (5 to 8) and a bias (12 to 15).
enum Input : size_t {
  kInput = 0,
  kInputToInput = 1,
  kRecurrentToInput = 5,
  kCellToInput = 9,  // peepholes: 9 to 11
  kInputGateBias = 12,
  kProjectionWeights = 16,
  kProjectionBias = 17,
  kOutputState = 18,
  kCellState = 19,
  kLayerNormFirst = 20,  // 20 to 23
};
constexpr int kGates = 4;  // input, forget, cell, output
constexpr int kQ312IntegerBits = 3;

struct Gate {
  const int8_t* input_weights = nullptr;      // [cells, inputs]
  const int8_t* recurrent_weights = nullptr;  // [cells, outputs]
  std::vector<int32_t> input_bias;            // the gate's bias and the input zero point's part
  std::vector<int32_t> recurrent_bias;        // the output state zero point's part
  fixed::QuantizedMultiplier input_scale, recurrent_scale;  // to Q3.12
};

class LstmKernel : public Kernel {
 public:
  Status Prepare(OpContext& c) override {
    TPUFLEET_RETURN_IF_ERROR(c.ExpectCounts(1, 24, 1));  // optional inputs are -1 (nullptr)
    if (c.inputs.size() != 20 && c.inputs.size() != 24) {
      return c.Invalid(
          fmt::format("has {} inputs; an LSTM has 20, or 24 with layer norm", c.inputs.size()));
    }
    const tfl::UnidirectionalSequenceLSTMOptions* options =
        c.op->builtin_options_as_UnidirectionalSequenceLSTMOptions();
    if (options == nullptr) return c.Invalid("has no UnidirectionalSequenceLSTMOptions");
    if (options->fused_activation_function() != tfl::ActivationFunctionType::TANH)
      return c.Unsupported("a cell activation other than TANH");
    if (options->proj_clip() != 0) return c.Unsupported("projection clipping");
    time_major_ = options->time_major();
    const Tensor& input = c.input(kInput);
    if (input.type != DataType::kInt8) {
      return c.Unsupported(fmt::format(
          "input {}: only the full-integer LSTM runs (int8 input, weights and output, int16 cell "
          "state); float and hybrid LSTMs do not",
          Describe(input)));
    }
    if (c.inputs[kInputToInput] == nullptr || c.inputs[kRecurrentToInput] == nullptr)
      return c.Unsupported("coupled input and forget gates (CIFG)");
    for (size_t i = kInputToInput; i < kCellToInput; ++i) {
      if (c.inputs[i] == nullptr) return c.Invalid(fmt::format("required input {} is omitted", i));
    }
    for (size_t i = kCellToInput; i < kCellToInput + 3; ++i)
      if (c.inputs[i] != nullptr) return c.Unsupported("peephole connections");
    if (c.inputs[kProjectionWeights] != nullptr || c.inputs[kProjectionBias] != nullptr)
      return c.Unsupported("a projection layer");
    for (size_t i = kLayerNormFirst; i < c.inputs.size(); ++i)
      if (c.inputs[i] != nullptr) return c.Unsupported("layer normalization");
    if (c.inputs[kOutputState] == nullptr || c.inputs[kCellState] == nullptr)
      return c.Invalid("needs its output state (input 18) and cell state (input 19)");
    if (input.rank() != 3) return c.Invalid(fmt::format("input {} is not 3-D", Describe(input)));
    TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(input));
    batches_ = input.dim(time_major_ ? 1 : 0);
    steps_ = input.dim(time_major_ ? 0 : 1);
    inputs_ = input.dim(2);

    const Tensor& probe = c.input(kInputToInput);
    if (probe.rank() != 2) return c.Invalid(fmt::format("weights {} are not 2-D", Describe(probe)));
    cells_ = probe.dim(0);
    const Tensor& output_state = c.input(kOutputState);
    const Tensor& cell_state = c.input(kCellState);
    Tensor& output = c.output(0);
    if (output_state.type != DataType::kInt8 || cell_state.type != DataType::kInt16 ||
        output.type != DataType::kInt8) {
      return c.Unsupported(fmt::format("output state {}, cell state {} and output {}",
                                       Describe(output_state), Describe(cell_state),
                                       Describe(output)));
    }
    TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(output_state));
    TPUFLEET_ASSIGN_OR_RETURN(int64_t state_elements,
                              CheckedProduct(c, {batches_, cells_}, "the state"));
    TPUFLEET_ASSIGN_OR_RETURN(int64_t output_elements,
                              CheckedProduct(c, {batches_, steps_, cells_}, "the output"));
    if (output_state.element_count() != static_cast<size_t>(state_elements) ||
        cell_state.element_count() != static_cast<size_t>(state_elements)) {
      return c.Invalid(fmt::format("states {} and {} do not hold {} x {} values",
                                   Describe(output_state), Describe(cell_state), batches_, cells_));
    }
    if (output.element_count() != static_cast<size_t>(output_elements))
      return c.Invalid(fmt::format("output {} does not hold {} x {} x {} values", Describe(output),
                                   batches_, steps_, cells_));
    int cell_scale_log2 = 0;
    float cell_scale = cell_state.scale();
    if (!(cell_scale > 0) || std::frexp(cell_scale, &cell_scale_log2) != 0.5f ||
        cell_scale_log2 - 1 < -15 || cell_scale_log2 - 1 > -9) {
      return c.Unsupported(
          fmt::format("cell state scale {} (a power of two from 2^-15 to 2^-9)", cell_scale));
    }
    cell_scale_log2_ = cell_scale_log2 - 1;
    cell_clip_ = 0;
    if (options->cell_clip() > 0) {
      cell_clip_ =
          static_cast<int16_t>(std::clamp(options->cell_clip() / cell_scale, 0.0f, 32767.0f));
    }

    // The gates: weights, their scales to Q3.12, and the zero points folded into the biases.
    for (int g = 0; g < kGates; ++g) {
      const Tensor& in_w = c.input(kInputToInput + g);
      const Tensor& rec_w = c.input(kRecurrentToInput + g);
      const Tensor* bias = c.inputs[kInputGateBias + g];
      TPUFLEET_RETURN_IF_ERROR(CheckWeights(c, in_w, cells_, inputs_));
      TPUFLEET_RETURN_IF_ERROR(CheckWeights(c, rec_w, cells_, cells_));
      if (bias == nullptr || bias->type != DataType::kInt32 || !bias->is_constant ||
          bias->element_count() != static_cast<size_t>(cells_)) {
        return c.Invalid(
            fmt::format("gate {} needs a constant int32 bias of {} values", g, cells_));
      }
      Gate& gate = gates_[g];
      gate.input_weights = in_w.as<int8_t>();
      gate.recurrent_weights = rec_w.as<int8_t>();
      const double q312 = std::ldexp(1.0, -12);
      gate.input_scale = fixed::QuantizeMultiplier(double{in_w.scale()} * input.scale() / q312);
      gate.recurrent_scale =
          fixed::QuantizeMultiplier(double{rec_w.scale()} * output_state.scale() / q312);
      gate.input_bias =
          ZeroPointTimesRows(gate.input_weights, inputs_, -input.zero_point(), bias->as<int32_t>());
      gate.recurrent_bias =
          ZeroPointTimesRows(gate.recurrent_weights, cells_, -output_state.zero_point(), nullptr);
    }

    // The hidden state o * tanh(c) (Q0.15 x Q0.15) to int8 at the hidden intermediate's scale.
    if (c.intermediates.size() != 5 || c.intermediates[4] == nullptr) {
      return c.Invalid("needs the 5 intermediate tensors the converter writes (their scales)");
    }
    const Tensor& hidden = *c.intermediates[4];
    TPUFLEET_RETURN_IF_ERROR(c.ExpectPositiveScale(hidden));
    const std::vector<int64_t>& hidden_zero_points = hidden.quantization.zero_points;
    if (hidden_zero_points.size() > 1 ||
        (!hidden_zero_points.empty() &&
         (hidden_zero_points[0] < -32768 || hidden_zero_points[0] > 32767))) {
      return c.Invalid(fmt::format("hidden intermediate {} needs one zero point within int16",
                                   Describe(hidden)));
    }
    hidden_scale_ = fixed::QuantizeMultiplier(std::ldexp(1.0, -30) / hidden.scale());
    hidden_zero_point_ = hidden.zero_point();
    output_state_.assign(static_cast<size_t>(batches_) * cells_,
                         static_cast<int8_t>(output_state.zero_point()));
    cell_state_.assign(static_cast<size_t>(batches_) * cells_, 0);
    for (auto& g : gate_values_) g.assign(static_cast<size_t>(cells_), 0);
    return OkStatus();
  }

  Status Eval(OpContext& c) override {
    const int8_t* input = c.input(kInput).as<int8_t>();
    int8_t* output = c.output(0).as<int8_t>();
    for (int b = 0; b < batches_; ++b) {
      for (int t = 0; t < steps_; ++t) {
        size_t row = time_major_ ? static_cast<size_t>(t) * batches_ + b
                                 : static_cast<size_t>(b) * steps_ + t;
        Step(input + row * inputs_, output_state_.data() + static_cast<size_t>(b) * cells_,
             cell_state_.data() + static_cast<size_t>(b) * cells_, output + row * cells_);
      }
    }
    return OkStatus();
  }

 private:
  static Status CheckWeights(const OpContext& c, const Tensor& w, int rows, int columns) {
    if (w.type != DataType::kInt8 || !w.is_constant || w.rank() != 2 || w.dim(0) != rows ||
        w.dim(1) != columns) {
      return c.Invalid(
          fmt::format("weights {} should be constant int8 [{}, {}]", Describe(w), rows, columns));
    }
    if (w.quantization.per_channel() || w.zero_point() != 0)
      return c.Unsupported(
          fmt::format("weights {} that are not per-tensor symmetric", Describe(w)));
    return c.ExpectPositiveScale(w);
  }

  // bias + zero_point * (the sum of each row of `weights`), per row. Sums are taken in 64 bits
  // and wrap to 32 as TFLite's int32 sums do (only a hostile model's can overflow).
  std::vector<int32_t> ZeroPointTimesRows(const int8_t* weights, int columns, int32_t zero_point,
                                          const int32_t* bias) const {
    std::vector<int32_t> out(static_cast<size_t>(cells_));
    for (int r = 0; r < cells_; ++r) {
      int64_t sum = 0;
      for (int k = 0; k < columns; ++k) sum += weights[static_cast<size_t>(r) * columns + k];
      out[static_cast<size_t>(r)] = static_cast<int32_t>((bias ? bias[r] : 0) + zero_point * sum);
    }
    return out;
  }

  // gate += rescale(bias + weights . x), saturated to int16 (TFLite's
  // MatrixBatchVectorMultiplyAccumulate into Q3.12).
  void Accumulate(const int8_t* x, int columns, const int8_t* weights, const int32_t* bias,
                  fixed::QuantizedMultiplier scale, int16_t* gate) const {
    for (int r = 0; r < cells_; ++r) {
      int64_t sum = bias[r];
      const int8_t* w = weights + static_cast<size_t>(r) * columns;
      for (int k = 0; k < columns; ++k) sum += int64_t{x[k]} * w[k];
      int32_t acc = fixed::MultiplyByQuantizedMultiplier(static_cast<int32_t>(sum),
                                                         scale.multiplier, scale.shift) +
                    gate[r];
      gate[r] = static_cast<int16_t>(std::clamp<int32_t>(acc, -32768, 32767));
    }
  }

  // One time step of one batch row: the four gates, the new cell state, the new output state
  // (which is also this step's output).
  void Step(const int8_t* x, int8_t* output_state, int16_t* cell_state, int8_t* out) {
    for (int g = 0; g < kGates; ++g) {
      int16_t* value = gate_values_[g].data();
      std::fill_n(value, cells_, 0);
      Accumulate(x, inputs_, gates_[g].input_weights, gates_[g].input_bias.data(),
                 gates_[g].input_scale, value);
      Accumulate(output_state, cells_, gates_[g].recurrent_weights, gates_[g].recurrent_bias.data(),
                 gates_[g].recurrent_scale, value);
      for (int i = 0; i < cells_; ++i) {
        value[i] = g == 2 ? fixed::Tanh16(value[i], kQ312IntegerBits)
                          : fixed::Logistic16(value[i], kQ312IntegerBits);
      }
    }
    const int16_t* input_gate = gate_values_[0].data();
    const int16_t* forget_gate = gate_values_[1].data();
    const int16_t* cell_gate = gate_values_[2].data();
    const int16_t* output_gate = gate_values_[3].data();
    for (int i = 0; i < cells_; ++i) {
      int32_t kept = fixed::RoundingDivideByPOT(int32_t{forget_gate[i]} * cell_state[i], 15);
      int32_t added =
          fixed::RoundingDivideByPOT(int32_t{input_gate[i]} * cell_gate[i], 30 + cell_scale_log2_);
      int32_t cell = std::clamp<int32_t>(static_cast<int16_t>(kept) + static_cast<int16_t>(added),
                                         -32768, 32767);
      if (cell_clip_ > 0) cell = std::clamp<int32_t>(cell, -cell_clip_, cell_clip_);
      cell_state[i] = static_cast<int16_t>(cell);
      int16_t squashed = fixed::Tanh16(cell_state[i], 15 + cell_scale_log2_);
      int32_t hidden = fixed::MultiplyByQuantizedMultiplier(
          int32_t{output_gate[i]} * squashed, hidden_scale_.multiplier, hidden_scale_.shift);
      // TFLite subtracts the hidden intermediate's zero point here (its CwiseMul into int8).
      output_state[i] =
          static_cast<int8_t>(std::clamp<int32_t>(hidden - hidden_zero_point_, -128, 127));
    }
    std::copy_n(output_state, cells_, out);
  }

  bool time_major_ = false;
  int batches_ = 0, steps_ = 0, inputs_ = 0, cells_ = 0;
  int cell_scale_log2_ = 0;
  int16_t cell_clip_ = 0;
  std::array<Gate, kGates> gates_;
  fixed::QuantizedMultiplier hidden_scale_;
  int32_t hidden_zero_point_ = 0;
  std::vector<int8_t> output_state_;  // the variable tensors' values, [batches, cells]
  std::vector<int16_t> cell_state_;
  std::array<std::vector<int16_t>, kGates> gate_values_;  // scratch, one step of one row
};

}  // namespace

std::unique_ptr<Kernel> MakeUnidirectionalSequenceLstm() { return std::make_unique<LstmKernel>(); }

}  // namespace tpufleet::cpu
