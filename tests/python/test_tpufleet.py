"""tpufleet's own Python API: interpreters on devices, tensors in place, errors with codes."""
import numpy as np
import pytest

import tpufleet
from conftest import image, model


def test_interpreter_tensors_in_place():
    interpreter = tpufleet.make_interpreter(model("mobilenet_v1_0.25_128_quant.tflite"), "cpu")
    (tensor,) = interpreter.inputs
    assert tensor.shape == (1, 128, 128, 3) and tensor.dtype == np.uint8
    assert tensor.quantization[1] == 128
    tensor.array[0] = image("cat.bmp", (128, 128))
    interpreter.invoke()
    output = interpreter.outputs[0]
    assert not output.array.flags.writeable
    first = output.array.copy()
    assert interpreter.run(tensor.array.copy())[0].tobytes() == first.tobytes()
    assert interpreter.device == "cpu"
    assert interpreter.last_invocation["device_seconds"] > 0


def test_views_keep_the_interpreter_alive():
    interpreter = tpufleet.make_interpreter(model("mobilenet_v1_0.25_128_quant.tflite"), "cpu")
    view = interpreter.inputs[0].array
    del interpreter
    view[...] = 7  # the memory is still the interpreter's, and it still exists
    assert int(view.sum()) == 7 * view.size


def test_simulated_device_shared_by_two_interpreters():
    stick = tpufleet.open_device("sim:0")
    a = tpufleet.make_interpreter(model("mobilenet_v1_0.25_128_quant_edgetpu.tflite"), stick)
    b = tpufleet.make_interpreter(model("mobilenet_v1_0.5_160_quant.tflite"), stick)
    assert a.device == b.device == "sim:0"
    a.inputs[0].array[0] = image("cat.bmp", (128, 128))
    a.invoke()
    assert a.last_invocation["device_seconds"] > 0 and not a.last_invocation["timing_only"]


def test_errors_carry_code_and_message():
    with pytest.raises(tpufleet.Error) as error:
        tpufleet.make_interpreter("/no/such/model.tflite")
    assert error.value.code == "NOT_FOUND" and "/no/such/model.tflite" in str(error.value)
    assert isinstance(error.value, RuntimeError)
    with pytest.raises(tpufleet.Error) as error:
        tpufleet.make_interpreter(model("mobilenet_v1_0.25_128_quant.tflite"), "gpu:3")
    assert error.value.code == "INVALID_ARGUMENT"
    with pytest.raises(tpufleet.Error) as error:
        tpufleet.make_interpreter(model("mobilenet_v1_0.25_128_quant.tflite"), "cpu",
                                  threads=2)
    assert error.value.code == "INVALID_ARGUMENT" and "cpu_threads" in str(error.value)
    with pytest.raises(tpufleet.Error) as error:
        tpufleet.Model.from_bytes(b"\0" * 64)
    assert error.value.code == "DATA_LOSS"


def test_run_checks_inputs():
    interpreter = tpufleet.make_interpreter(model("mobilenet_v1_0.25_128_quant.tflite"), "cpu")
    with pytest.raises(ValueError, match="has 1 inputs; run\\(\\) got 2"):
        interpreter.run(1, 2)
    with pytest.raises(ValueError, match="uint8 \\[1, 128, 128, 3\\]; got float32"):
        interpreter.run(np.zeros((1, 128, 128, 3), np.float32))


def test_list_devices_is_a_list_of_edge_tpus():
    devices = tpufleet.list_devices()
    assert isinstance(devices, list)
    assert all(d.type in ("usb", "pci") for d in devices)
