"""pycoral.utils.edgetpu: Edge TPU delegates and interpreters, run by tpufleet.

Devices are real Edge TPUs, or with TPUFLEET_SIMULATE set a simulated rig (tpufleet.coral_devices).
"""
import ctypes
import platform

import numpy as np

import tflite_runtime.interpreter as tflite
from tpufleet import coral_devices

_EDGETPU_SHARED_LIB = {
    "Linux": "libedgetpu.so.1",
    "Darwin": "libedgetpu.1.dylib",
    "Windows": "edgetpu.dll",
}[platform.system()]

_RUNTIME_VERSION = 14
_verbosity = 0


def load_edgetpu_delegate(options=None):
    """The Edge TPU delegate for `options` ({'device': ':0'}, ...)."""
    return tflite.load_delegate(_EDGETPU_SHARED_LIB, options or {})


def make_interpreter(model_path_or_content, device=None, delegate=None):
    """An Interpreter (not allocated) for a model path or its bytes, with `delegate` or the
    Edge TPU delegate of `device` ('', ':N', 'usb', 'usb:N', 'pci', 'pci:N')."""
    if delegate:
        delegates = [delegate]
    else:
        delegates = [load_edgetpu_delegate({"device": device} if device else {})]
    if isinstance(model_path_or_content, bytes):
        return tflite.Interpreter(model_content=model_path_or_content,
                                  experimental_delegates=delegates)
    return tflite.Interpreter(model_path=model_path_or_content, experimental_delegates=delegates)


def list_edge_tpus():
    """[{'type': 'usb'|'pci', 'path': ...}] in libedgetpu's order (':N' indexes it)."""
    return [{"type": type_, "path": path} for type_, path, _ in coral_devices.edge_tpus()]


def get_runtime_version():
    return f"BuildLabel(tpufleet), RuntimeVersion({_RUNTIME_VERSION})"


def set_verbosity(verbosity):
    """Sets the logging level (0 to 10); False for other values."""
    global _verbosity
    if not isinstance(verbosity, int) or not 0 <= verbosity <= 10:
        return False
    _verbosity = verbosity
    return True


def _invoke_with_input(interpreter_handle, read, entries, what):
    """Writes input 0 from `read(byte_count)` (a flat uint8 array of the input's bytes) when
    `entries` (elements the caller has) cover it, then invokes, without the references check
    (as libcoral's InvokeWith* do)."""
    native = tflite.interpreter_from_handle(interpreter_handle)._tpufleet_interpreter()
    view = native.input(0)
    if entries < view.size:
        raise RuntimeError(f"Input buffer ({entries}) has fewer entries than model input "
                           f"tensor ({view.size}).")
    view.reshape(-1).view(np.uint8)[...] = read(view.nbytes)
    del view
    try:
        native.invoke()
    except Exception as e:  # tpufleet.Error
        raise RuntimeError(f"{what} failed: {e}") from None


def invoke_with_bytes(interpreter_handle, input_data):
    """Invokes with `input_data` (bytes) as input 0."""
    data = np.frombuffer(input_data, dtype=np.uint8)
    _invoke_with_input(interpreter_handle, lambda n: data[:n], data.size, "InvokeWithBytes")


def invoke_with_membuffer(interpreter_handle, buffer, size):
    """Invokes with the memory at address `buffer`, `size` elements of input 0's type."""
    def read(byte_count):
        return np.ctypeslib.as_array((ctypes.c_uint8 * byte_count).from_address(buffer))
    _invoke_with_input(interpreter_handle, read, size, "InvokeWithMemBuffer")


def invoke_with_dmabuffer(interpreter_handle, dma_fd, size):
    raise RuntimeError("InvokeWithDmaBuffer failed: tpufleet does not read dma-buf inputs; "
                       "pass bytes or a numpy array to run_inference")


def supports_dmabuf(interpreter_handle):
    return False


def run_inference(interpreter, input_data):
    """Fills input 0 with `input_data` (bytes, a flat uint8 numpy array, or a
    (ctypes.c_void_p, size) tuple) and invokes."""
    input_shape = interpreter.get_input_details()[0]["shape"]
    expected_input_size = np.prod(input_shape)
    interpreter_handle = interpreter._native_handle()
    if isinstance(input_data, bytes):
        if len(input_data) < expected_input_size:
            raise ValueError(f"input size={len(input_data)}, expected={expected_input_size}.")
        invoke_with_bytes(interpreter_handle, input_data)
    elif (isinstance(input_data, tuple) and len(input_data) == 2
          and isinstance(input_data[0], ctypes.c_void_p)):
        pointer, size = input_data
        if size < expected_input_size:
            raise ValueError(f"input size={size}, expected={expected_input_size}.")
        invoke_with_membuffer(interpreter_handle, pointer.value, int(expected_input_size))
    elif isinstance(input_data, np.ndarray):
        if len(input_data) < expected_input_size:
            raise ValueError(f"input size={len(input_data)}, expected={expected_input_size}.")
        invoke_with_membuffer(interpreter_handle, input_data.ctypes.data,
                              int(expected_input_size))
    else:
        raise TypeError("input data type is not supported.")
