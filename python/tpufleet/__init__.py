"""tpufleet for Python: TensorFlow Lite models on Edge TPUs, simulated Edge TPUs and the CPU.

    import tpufleet
    tpufleet.list_devices()                       # the Edge TPUs, in Coral's order
    interpreter = tpufleet.make_interpreter("model_edgetpu.tflite", "usb:0")
    interpreter.inputs[0].array[...] = pixels     # in place
    interpreter.invoke()                          # the GIL is released meanwhile
    scores = interpreter.outputs[0].array

Every failure raises tpufleet.Error: str(e) is tpufleet's message, e.code the status code's
name ("NOT_FOUND", "INVALID_ARGUMENT", ...). See docs/python.md.
"""
from tpufleet._native import Device, DeviceInfo, Error, Model, list_devices, open_device
from tpufleet.fleet import Fleet, InferenceResult
from tpufleet.interpreter import Interpreter, Tensor, make_interpreter

__version__ = "0.1.0"

__all__ = [
    "Device",
    "DeviceInfo",
    "Error",
    "Fleet",
    "InferenceResult",
    "Interpreter",
    "Model",
    "Tensor",
    "list_devices",
    "make_interpreter",
    "open_device",
]
