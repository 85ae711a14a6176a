#include "oracle/armnn_reference.h"

#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

namespace tpufleet::testing {

Result<std::vector<std::vector<uint8_t>>> RunWithArmNN(
    const std::string& model_path, const std::vector<std::vector<uint8_t>>& inputs) {
  try {
    armnnTfLiteParser::ITfLiteParserPtr parser = armnnTfLiteParser::ITfLiteParser::Create();
    armnn::INetworkPtr network = parser->CreateNetworkFromBinaryFile(model_path.c_str());
    armnn::IRuntime::CreationOptions options;
    armnn::IRuntimePtr runtime = armnn::IRuntime::Create(options);
    armnn::IOptimizedNetworkPtr optimized =
        armnn::Optimize(*network, {armnn::Compute::CpuRef}, runtime->GetDeviceSpec());
    armnn::NetworkId id;
    if (runtime->LoadNetwork(id, std::move(optimized)) != armnn::Status::Success) {
      return InternalError("ArmNN could not load " + model_path);
    }
    std::vector<std::string> input_names = parser->GetSubgraphInputTensorNames(0);
    std::vector<std::string> output_names = parser->GetSubgraphOutputTensorNames(0);
    if (input_names.size() != inputs.size())
      return InvalidArgumentError("wrong number of inputs for ArmNN");
    armnn::InputTensors input_tensors;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto binding = parser->GetNetworkInputBindingInfo(0, input_names[i]);
      if (binding.second.GetNumBytes() != inputs[i].size())
        return InvalidArgumentError("input size mismatch for ArmNN");
      input_tensors.push_back(
          {binding.first, armnn::ConstTensor(binding.second, inputs[i].data())});
    }
    std::vector<std::vector<uint8_t>> outputs(output_names.size());
    armnn::OutputTensors output_tensors;
    for (size_t i = 0; i < output_names.size(); ++i) {
      auto binding = parser->GetNetworkOutputBindingInfo(0, output_names[i]);
      outputs[i].resize(binding.second.GetNumBytes());
      output_tensors.push_back({binding.first, armnn::Tensor(binding.second, outputs[i].data())});
    }
    if (runtime->EnqueueWorkload(id, input_tensors, output_tensors) != armnn::Status::Success) {
      return InternalError("ArmNN failed to run " + model_path);
    }
    return outputs;
  } catch (const std::exception& e) {
    return InternalError(std::string("ArmNN: ") + e.what());
  }
}

}  // namespace tpufleet::testing
