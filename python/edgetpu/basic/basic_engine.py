"""edgetpu.basic.basic_engine.BasicEngine: one model on one Edge TPU (assigned as the Edge TPU
API assigns them: edgetpu.basic.device_assignment), raw inputs in, dequantized outputs out."""
import ctypes
import time
import weakref

import numpy as np

from edgetpu.basic import device_assignment
from tflite_runtime.interpreter import Interpreter

_OUTPUT_TYPES = (np.uint8, np.float32, np.int64)


def _as_bytes(input_data, size):
    """The flat uint8 array of `input_data` (bytes, a (ctypes.c_void_p, size) tuple, or an array
    or list taken as uint8)."""
    if isinstance(input_data, (bytes, bytearray)):
        return np.frombuffer(input_data, dtype=np.uint8)
    if (isinstance(input_data, tuple) and len(input_data) == 2
            and isinstance(input_data[0], ctypes.c_void_p)):
        pointer, count = input_data
        return np.ctypeslib.as_array((ctypes.c_uint8 * int(count)).from_address(pointer.value))
    return np.asarray(input_data, dtype=np.uint8).reshape(-1)


class BasicEngine:
    """A model on an Edge TPU: the one at `device_path`, or without it the next unassigned one
    (PCIe first). Raises RuntimeError with the Edge TPU API's messages."""

    def __init__(self, model_path, device_path=None):
        try:
            self._interpreter = Interpreter(model_path=model_path)
        except ValueError as e:
            raise RuntimeError(str(e)) from None
        self._model_path = model_path
        inputs = self._interpreter.get_input_details()
        if len(inputs) != 1:
            raise RuntimeError("We don't support multiple input tensors yet!")
        for output in self._interpreter.get_output_details():
            if output["dtype"] not in _OUTPUT_TYPES:
                raise RuntimeError(
                    f"Output tensor '{output['name']}' is {np.dtype(output['dtype']).name}: "
                    "the Edge TPU API supports uint8, float32 and int64 outputs only")
        self._device_path, delegate = device_assignment.claim(device_path)
        self._release = weakref.finalize(self, device_assignment.release, self._device_path)
        self._interpreter = Interpreter(model_path=model_path, experimental_delegates=[delegate])
        try:
            self._interpreter.allocate_tensors()
        except RuntimeError:
            self._release()
            raise
        self._input = self._interpreter.get_input_details()[0]
        self._outputs = self._interpreter.get_output_details()
        self._output_sizes = np.array([int(np.prod(o["shape"])) for o in self._outputs],
                                      dtype=np.uint64)
        self._result = np.zeros(int(self._output_sizes.sum()), dtype=np.float32)
        self._inference_ms = 0.0

    def _require_outputs(self, count, what):
        """ValueError unless the model has `count` outputs, as a `what` model must."""
        outputs = self.get_num_of_output_tensors()
        if outputs != count:
            plural = "tensor only" if count == 1 else "tensors"
            raise ValueError(f"{what} model should have {count} output {plural}! This model "
                             f"has {outputs}.")

    def run_inference(self, input, size=None):
        """(latency in ms, the outputs concatenated as float32, uint8 ones dequantized). The
        array is an internal buffer: the next call overwrites it."""
        expected = self.required_input_array_size()
        data = _as_bytes(input, expected)
        if size:
            assert size == expected, f"Wrong input size={size}, expected={expected}."
        assert data.size >= expected
        view = self._interpreter.tensor(self._input["index"])()
        view.reshape(-1)[...] = data[:expected].astype(view.dtype, copy=False)
        del view
        start = time.perf_counter()
        self._interpreter.invoke()
        self._inference_ms = (time.perf_counter() - start) * 1000.0
        offset = 0
        for output, count in zip(self._outputs, self._output_sizes):
            values = self._interpreter.get_tensor(output["index"]).reshape(-1)
            if output["dtype"] is np.uint8:
                scale, zero_point = output["quantization"]
                values = (values.astype(np.float32) - zero_point) * np.float32(scale)
            self._result[offset:offset + int(count)] = values
            offset += int(count)
        return self._inference_ms, self._result

    def get_input_tensor_shape(self):
        return np.array(self._input["shape"], dtype=np.int32)

    def get_all_output_tensors_sizes(self):
        return self._output_sizes.copy()

    def get_num_of_output_tensors(self):
        return len(self._outputs)

    def get_output_tensor_size(self, tensor_index):
        if tensor_index < 0:
            raise RuntimeError("tensor_index must >= 0!")
        if tensor_index >= len(self._outputs):
            raise RuntimeError("tensor_index doesn't exist!")
        return int(self._output_sizes[tensor_index])

    def total_output_array_size(self):
        return int(self._output_sizes.sum())

    def required_input_array_size(self):
        return int(np.prod(self._input["shape"]))

    def get_inference_time(self):
        """The wall time of the last inference, in ms."""
        return self._inference_ms

    def model_path(self):
        return self._model_path

    def device_path(self):
        """The path of this engine's Edge TPU: give it to another engine to share the device."""
        return self._device_path

    def get_raw_output(self):
        return self._result
