"""tpufleet.Interpreter: one model on one device, its tensors as numpy arrays in place."""
import numpy as np

from tpufleet import _native


def load_model(model):
    """A tpufleet.Model from a Model, the bytes of a .tflite file, or a path."""
    if isinstance(model, _native.Model):
        return model
    if isinstance(model, (bytes, bytearray, memoryview)):
        return _native.Model.from_bytes(bytes(model))
    return _native.Model.from_file(str(model))


class Tensor:
    """An input or output of an Interpreter: its description, and `array`, a numpy view of its
    bytes in place (writable for inputs, read-only for outputs; the next invoke overwrites
    outputs)."""

    def __init__(self, array, info):
        self.array = array
        self.index = info["index"]
        self.name = info["name"]
        self.dtype = array.dtype
        self.shape = tuple(info["shape"])
        scales, zero_points = info["scales"], info["zero_points"]
        # (scale, zero_point) when quantized per tensor, as TensorFlow Lite gives it.
        self.quantization = (
            (float(scales[0]), int(zero_points[0])) if len(scales) == 1 else (0.0, 0))
        self.scales = np.array(scales, dtype=np.float32)
        self.zero_points = np.array(zero_points, dtype=np.int64)
        self.quantized_dimension = info["quantized_dimension"]

    def __repr__(self):
        return f"<tpufleet.Tensor '{self.name}' {self.dtype} {list(self.shape)}>"


class Interpreter:
    """A model prepared on a device (make_interpreter makes them). Use it from one thread at a
    time; interpreters on one device may run from different threads."""

    def __init__(self, native, model):
        self._native = native
        self.model = model
        tensors = model.tensors
        self.inputs = [Tensor(native.input(i), tensors[native.input_index(i)])
                       for i in range(native.input_count)]
        self.outputs = [Tensor(native.output(i), tensors[native.output_index(i)])
                        for i in range(native.output_count)]

    @property
    def device(self):
        """The device string that names the device whatever the order ("usb@2-1.3", "sim:1")."""
        return self._native.device.name

    @property
    def last_invocation(self):
        """{'device_seconds': ..., 'timing_only': ...} of the last invoke."""
        return self._native.last_invocation

    def invoke(self):
        """Runs the model on its inputs as they are now; the GIL is released meanwhile."""
        self._native.invoke()

    def run(self, *inputs):
        """Copies `inputs` (arrays of the inputs' shapes and dtypes, in input order) into the
        inputs, invokes, and returns copies of the outputs."""
        if len(inputs) != len(self.inputs):
            raise ValueError(
                f"{self.model.name} has {len(self.inputs)} inputs; run() got {len(inputs)}")
        for tensor, value in zip(self.inputs, inputs):
            value = np.asarray(value)
            if value.dtype != tensor.dtype or value.shape != tensor.shape:
                raise ValueError(
                    f"input '{tensor.name}' is {tensor.dtype} {list(tensor.shape)}; "
                    f"got {value.dtype} {list(value.shape)}")
            tensor.array[...] = value
        self.invoke()
        return [tensor.array.copy() for tensor in self.outputs]


def make_interpreter(model, device="", **options):
    """Prepares `model` (a path, the bytes of a .tflite file, or a tpufleet.Model) on `device`:
    a device string ("" any Edge TPU as in Coral, ":N", "usb:N", "pci:N", "sim:N", "cpu", ...)
    or an opened tpufleet.Device, which several interpreters share. Options (keywords):
    sim_topology_json, sim_full_models (uncompiled models or folders of them, for a compiled
    model without a twin beside it), real_time, cpu_threads, edgetpu_options (dict), isolate."""
    model = load_model(model)
    if isinstance(device, _native.Device):
        if options:
            raise ValueError("options are the device's: give them to open_device, not with a "
                             "Device already opened")
        native = _native.make_interpreter(model, device)
    else:
        native = _native.make_interpreter(model, str(device), options)
    return Interpreter(native, model)
