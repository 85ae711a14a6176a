"""The compatible layers give exactly what tpufleet's own API gives on the same inputs."""
import numpy as np
import pytest

import tpufleet
from conftest import image, model
from pycoral.adapters import common
from pycoral.utils import edgetpu
from tflite_runtime.interpreter import Interpreter

CASES = [
    ("mobilenet_v2_1.0_224_quant.tflite", "cat.bmp"),
    ("ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite", "cat.bmp"),
    ("tf2_mobilenet_v2_1.0_224_ptq.tflite", "grace_hopper.bmp"),
]


def native_outputs(model_path, pixels, device):
    interpreter = tpufleet.make_interpreter(model_path, device)
    return interpreter.run(pixels)


@pytest.mark.parametrize("model_name,image_name", CASES)
def test_tflite_runtime_equals_native_cpu(model_name, image_name):
    path = model(model_name)
    compat = Interpreter(model_path=path)
    compat.allocate_tensors()
    _, height, width, _ = compat.get_input_details()[0]["shape"]
    pixels = image(image_name, (width, height))[np.newaxis]
    compat.set_tensor(compat.get_input_details()[0]["index"], pixels)
    compat.invoke()
    expected = native_outputs(path, pixels, "cpu")
    got = [compat.get_tensor(d["index"]) for d in compat.get_output_details()]
    assert [g.tobytes() for g in got] == [e.tobytes() for e in expected]
    assert [g.dtype for g in got] == [e.dtype for e in expected]


def test_pycoral_on_simulated_stick_equals_native_sim(simulated):
    path = model("mobilenet_v2_1.0_224_quant_edgetpu.tflite")
    interpreter = edgetpu.make_interpreter(path, ":1")
    interpreter.allocate_tensors()
    pixels = image("cat.bmp", (224, 224))
    common.set_input(interpreter, pixels)
    interpreter.invoke()
    got = common.output_tensor(interpreter, 0).tobytes()
    assert got == native_outputs(path, pixels[np.newaxis], "sim:1")[0].tobytes()
    # The simulator computes compiled models through their uncompiled twin on the CPU.
    twin = model("mobilenet_v2_1.0_224_quant.tflite")
    assert got == native_outputs(twin, pixels[np.newaxis], "cpu")[0].tobytes()
