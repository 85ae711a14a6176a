#include "oracle/armnn_reference.h"

#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

namespace tpufleet::testing {

struct ArmNNReference::State {
  armnnTfLiteParser::ITfLiteParserPtr parser{nullptr, nullptr};
  armnn::IRuntimePtr runtime{nullptr, nullptr};
  armnn::NetworkId id = 0;
  std::vector<armnnTfLiteParser::BindingPointInfo> inputs, outputs;
};

ArmNNReference::ArmNNReference(std::unique_ptr<State> state) : state_(std::move(state)) {}
ArmNNReference::~ArmNNReference() = default;

Result<std::unique_ptr<ArmNNReference>> ArmNNReference::Create(const std::string& model_path) {
  try {
    auto state = std::make_unique<State>();
    state->parser = armnnTfLiteParser::ITfLiteParser::Create();
    armnn::INetworkPtr network = state->parser->CreateNetworkFromBinaryFile(model_path.c_str());
    state->runtime = armnn::IRuntime::Create(armnn::IRuntime::CreationOptions());
    armnn::IOptimizedNetworkPtr optimized =
        armnn::Optimize(*network, {armnn::Compute::CpuRef}, state->runtime->GetDeviceSpec());
    if (state->runtime->LoadNetwork(state->id, std::move(optimized)) != armnn::Status::Success) {
      return InternalError("ArmNN could not load " + model_path);
    }
    for (const std::string& name : state->parser->GetSubgraphInputTensorNames(0)) {
      state->inputs.push_back(state->parser->GetNetworkInputBindingInfo(0, name));
    }
    for (const std::string& name : state->parser->GetSubgraphOutputTensorNames(0)) {
      state->outputs.push_back(state->parser->GetNetworkOutputBindingInfo(0, name));
    }
    return std::unique_ptr<ArmNNReference>(new ArmNNReference(std::move(state)));
  } catch (const std::exception& e) {
    return InternalError(std::string("ArmNN cannot load ") + model_path + ": " + e.what());
  }
}

Result<std::vector<std::vector<uint8_t>>> ArmNNReference::Run(
    const std::vector<std::vector<uint8_t>>& inputs) {
  if (inputs.size() != state_->inputs.size())
    return InvalidArgumentError("wrong number of inputs for ArmNN");
  armnn::InputTensors input_tensors;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const auto& [id, info] = state_->inputs[i];
    if (info.GetNumBytes() != inputs[i].size())
      return InvalidArgumentError("input size mismatch for ArmNN");
    input_tensors.push_back({id, armnn::ConstTensor(info, inputs[i].data())});
  }
  std::vector<std::vector<uint8_t>> outputs(state_->outputs.size());
  armnn::OutputTensors output_tensors;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [id, info] = state_->outputs[i];
    outputs[i].resize(info.GetNumBytes());
    output_tensors.push_back({id, armnn::Tensor(info, outputs[i].data())});
  }
  try {
    if (state_->runtime->EnqueueWorkload(state_->id, input_tensors, output_tensors) !=
        armnn::Status::Success) {
      return InternalError("ArmNN failed to run the model");
    }
  } catch (const std::exception& e) {
    return InternalError(std::string("ArmNN: ") + e.what());
  }
  return outputs;
}

Result<std::vector<std::vector<uint8_t>>> RunWithArmNN(
    const std::string& model_path, const std::vector<std::vector<uint8_t>>& inputs) {
  TPUFLEET_ASSIGN_OR_RETURN(std::unique_ptr<ArmNNReference> armnn,
                            ArmNNReference::Create(model_path));
  return armnn->Run(inputs);
}

}  // namespace tpufleet::testing
