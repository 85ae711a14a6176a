"""tflite_runtime.interpreter as TensorFlow Lite 2.5 has it, run by tpufleet's own runtime.

Models without Edge TPU operators run on tpufleet's CPU backend, with or without an Edge TPU
delegate attached (as TensorFlow Lite runs them); compiled models run on the Edge TPU the
delegate (load_delegate('libedgetpu.so.1', {'device': ...})) names, real or, with
TPUFLEET_SIMULATE set, simulated. Differences from TensorFlow Lite are listed in docs/python.md.
"""
import enum
import os
import sys
import weakref

import numpy as np

import tpufleet
from tflite_runtime.signatures import read_signatures
from tpufleet import _native, coral_devices

_EDGETPU_LIBRARIES = ("libedgetpu.so.1", "libedgetpu.so", "libedgetpu.1.dylib", "edgetpu.dll")

# tflite's element type names, as its error messages give them.
_TFLITE_TYPE_NAMES = {
    np.dtype(np.float32): "FLOAT32", np.dtype(np.float16): "FLOAT16",
    np.dtype(np.float64): "FLOAT64", np.dtype(np.int8): "INT8", np.dtype(np.int16): "INT16",
    np.dtype(np.int32): "INT32", np.dtype(np.int64): "INT64", np.dtype(np.uint8): "UINT8",
    np.dtype(np.uint16): "UINT16", np.dtype(np.uint32): "UINT32",
    np.dtype(np.uint64): "UINT64", np.dtype(np.bool_): "BOOL",
    np.dtype(np.complex64): "COMPLEX64", np.dtype(np.complex128): "COMPLEX128",
}


class OpResolverType(enum.Enum):
    AUTO = 0
    BUILTIN = 1
    BUILTIN_REF = 2
    BUILTIN_WITHOUT_DEFAULT_DELEGATES = 3


class Delegate:
    """An Edge TPU delegate: the device it names, opened (or shared with the delegates already
    holding it). Only libedgetpu's delegate exists here: tpufleet runs the models itself."""

    def __init__(self, library, options=None):
        self._library = library
        self._options = {str(k): str(v) for k, v in (options or {}).items()}
        if os.path.basename(str(library)) not in _EDGETPU_LIBRARIES:
            if not os.path.exists(str(library)):
                raise OSError(f"{library}: cannot open shared object file: No such file or "
                              "directory")
            raise ValueError(
                f"Failed to load delegate from {library}\ntpufleet runs models with its own "
                f"runtime and applies only the Edge TPU delegate ({', '.join(_EDGETPU_LIBRARIES)})")
        selector = self._options.get("device", "")
        # As libedgetpu: the other options count only with an indexed device.
        indexed = ":" in selector
        edgetpu_options = {k: v for k, v in self._options.items() if k != "device" and indexed}
        try:
            self._edgetpu = coral_devices.open_edge_tpu(selector, edgetpu_options)
        except (coral_devices.DeviceNotFound, tpufleet.Error) as e:
            raise ValueError(f"Failed to load delegate from {library}\n{e}") from None

    @property
    def device(self):
        """The tpufleet.Device this delegate runs Edge TPU models on."""
        return self._edgetpu.device

    @property
    def device_type(self):
        return self._edgetpu.type

    def _get_native_delegate_pointer(self):
        return id(self)


def load_delegate(library, options=None):
    """The delegate `library` stands for; ValueError('Failed to load delegate from ...') with
    tpufleet's reason when its device cannot be opened."""
    return Delegate(library, options)


_interpreters = weakref.WeakValueDictionary()  # _native_handle() -> Interpreter


def interpreter_from_handle(handle):
    """The Interpreter whose _native_handle() is `handle` (for pycoral's invoke_with_*)."""
    interpreter = _interpreters.get(handle)
    if interpreter is None:
        raise RuntimeError(f"{handle} is not the native handle of a live Interpreter")
    return interpreter


def _tensor_details(model, dtypes, index, held_shape=None):
    """TensorFlow Lite's details dict of tensor `index`; `held_shape` the shape it has once
    allocated, when the file leaves it open."""
    info = model.tensors[index]
    scales, zero_points = info["scales"], info["zero_points"]
    shape = np.array(info["shape"] if held_shape is None else held_shape, dtype=np.int32)
    dtype = dtypes[index]
    return {
        "name": info["name"],
        "index": index,
        "shape": shape,
        "shape_signature": shape.copy(),
        "dtype": dtype.type if dtype is not None else np.bytes_,
        "quantization": ((float(scales[0]), int(zero_points[0])) if len(scales) == 1
                         else (0.0, 0)),
        "quantization_parameters": {
            "scales": np.array(scales, dtype=np.float32),
            "zero_points": np.array(zero_points, dtype=np.int32),
            "quantized_dimension": info["quantized_dimension"],
        },
        "sparsity_parameters": {},
    }


class Interpreter:
    """TensorFlow Lite's Interpreter over tpufleet (see the module's docstring)."""

    def __init__(self, model_path=None, model_content=None, experimental_delegates=None,
                 num_threads=None, experimental_op_resolver_type=OpResolverType.AUTO,
                 experimental_preserve_all_tensors=False, **legacy):
        unknown = set(legacy) - {"experimental_op_resolver"}
        if unknown:
            raise TypeError(f"Interpreter() got unexpected keyword arguments {sorted(unknown)}")
        if model_path is not None and model_content is not None:
            raise ValueError("Can't both provide `model_path` and `model_content`")
        if model_path is None and model_content is None:
            raise ValueError("`model_path` or `model_content` must be specified.")
        if num_threads is not None:
            if not isinstance(num_threads, int):
                raise ValueError("type of num_threads should be int")
            if num_threads < -1:
                raise ValueError("num_threads should >= -1")
        self._cpu_threads = num_threads if num_threads and num_threads > 0 else 1
        self._model = self._load(model_path, model_content)
        self._model_path = model_path
        self._model_content = model_content
        self._signatures = None  # read on first use
        self._delegates = list(experimental_delegates or [])
        for delegate in self._delegates:
            if not isinstance(delegate, Delegate):
                raise ValueError(f"experimental_delegates holds {delegate!r}, which is not a "
                                 "Delegate from load_delegate()")
        self._dtypes = self._model.numpy_dtypes
        self._native = None
        self._inputs = {}   # tensor index -> input position
        self._outputs = {}  # tensor index -> output position
        _interpreters[id(self)] = self

    @staticmethod
    def _load(model_path, model_content):
        try:
            if model_path is not None:
                return _native.Model.from_file(str(model_path))
            return _native.Model.from_bytes(bytes(model_content))
        except tpufleet.Error as e:
            if model_path is not None and not os.path.exists(str(model_path)):
                raise ValueError(f"Could not open '{model_path}'.") from None
            raise ValueError(str(e)) from None

    def _device(self):
        if not self._model.is_edgetpu_compiled:
            return "cpu"
        for delegate in self._delegates:
            return delegate.device
        first = next(op for op in self._model.operators if op["name"] == "edgetpu-custom-op")
        raise RuntimeError(
            "Encountered unresolved custom op: edgetpu-custom-op.\n"
            f"Node number {first['index']} (edgetpu-custom-op) failed to prepare.\n"
            "(The model is compiled for the Edge TPU: attach "
            "load_delegate('libedgetpu.so.1'), or use pycoral.utils.edgetpu.make_interpreter.)")

    def _safe_to_run(self):
        # The native interpreter is the base of every view tensor() gave: any view (or slice of
        # one) still alive holds a reference to it.
        return self._native is None or sys.getrefcount(self._native) <= 2

    def _ensure_safe(self):
        if not self._safe_to_run():
            raise RuntimeError("""There is at least 1 reference to internal data
      in the interpreter in the form of a numpy array or slice. Be sure to
      only hold the function returned from tensor() if you are using raw
      data access.""")

    def allocate_tensors(self):
        self._ensure_safe()
        if self._native is not None:
            return
        device = self._device()
        try:
            if device == "cpu":
                native = _native.make_interpreter(self._model, "cpu",
                                                  {"cpu_threads": self._cpu_threads})
            else:
                native = _native.make_interpreter(self._model, device)
        except tpufleet.Error as e:
            raise RuntimeError(str(e)) from None
        self._inputs = {native.input_index(i): i for i in range(native.input_count)}
        self._outputs = {native.output_index(i): i for i in range(native.output_count)}
        self._native = native

    def invoke(self):
        self._ensure_safe()
        if self._native is None:
            raise RuntimeError("Invoke called on model that is not ready.")
        try:
            self._native.invoke()
        except tpufleet.Error as e:
            raise RuntimeError(str(e)) from None
        if self._native.last_invocation["timing_only"]:
            raise RuntimeError(
                "the simulated Edge TPU could only time this model, not compute its outputs: it "
                "computes a compiled model through its uncompiled twin beside the file "
                "(m_edgetpu.tflite -> m.tflite), which a model given as bytes or without its "
                "twin does not have; pass model_path= with the twin beside it")

    def _check_index(self, tensor_index):
        count = len(self._model.tensors)
        if not isinstance(tensor_index, (int, np.integer)) or not 0 <= tensor_index < count:
            raise ValueError(
                f"Invalid tensor index {tensor_index} exceeds max tensor index {count}")
        return int(tensor_index)

    def _view(self, tensor_index):
        """A view of tensor `tensor_index` in place (inputs writable, outputs read-only)."""
        tensor_index = self._check_index(tensor_index)
        if self._native is None:
            raise ValueError("Tensor data is null. Run allocate_tensors() first")
        if tensor_index in self._inputs:
            return self._native.input(self._inputs[tensor_index])
        if tensor_index in self._outputs:
            return self._native.output(self._outputs[tensor_index])
        name = self._model.tensors[tensor_index]["name"]
        raise ValueError(
            f"tensor {tensor_index} ('{name}') is neither an input nor an output of the model: "
            "tpufleet gives the inputs and outputs only (intermediate tensors are not kept)")

    def _details(self, tensor_index):
        held_shape = None
        if self._native is not None and tensor_index in self._outputs:
            # Allocated: outputs the file leaves open (detection post-processing) have a shape.
            held_shape = self._native.output(self._outputs[tensor_index]).shape
        return _tensor_details(self._model, self._dtypes, tensor_index, held_shape)

    def get_input_details(self):
        return [self._details(i) for i in self._model.input_indices]

    def get_output_details(self):
        return [self._details(i) for i in self._model.output_indices]

    def get_tensor_details(self):
        return [self._details(t["index"]) for t in self._model.tensors if t["name"]]

    def _get_tensor_details(self, tensor_index):
        return self._details(self._check_index(tensor_index))

    def _get_ops_details(self):
        return [{
            "index": op["index"],
            "op_name": op["name"],
            "inputs": np.array(op["inputs"], dtype=np.int32),
            "outputs": np.array(op["outputs"], dtype=np.int32),
        } for op in self._model.operators]

    def tensor(self, tensor_index):
        """A function giving a fresh numpy view of the tensor in place on each call. Hold the
        function, not the view: invoke() refuses to run while a view is alive."""
        self._check_index(tensor_index)
        return lambda: self._view(tensor_index)

    def get_tensor(self, tensor_index):
        return self._view(tensor_index).copy()

    def set_tensor(self, tensor_index, value):
        tensor_index = self._check_index(tensor_index)
        if tensor_index not in self._inputs and self._native is not None:
            raise ValueError(f"tensor {tensor_index} is not an input of the model: tpufleet sets "
                             "inputs only")
        view = self._view(tensor_index)
        value = np.asarray(value)
        position = self._inputs[tensor_index]
        name = self._model.tensors[tensor_index]["name"]
        if value.dtype != view.dtype:
            raise ValueError(
                f"Cannot set tensor: Got value of type {_TFLITE_TYPE_NAMES.get(value.dtype, 'NOTYPE')}"
                f" but expected type {_TFLITE_TYPE_NAMES.get(view.dtype, 'NOTYPE')} for input "
                f"{position}, name: {name} ")
        if value.ndim != view.ndim:
            raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {value.ndim} but "
                             f"expected {view.ndim} for input {position}.")
        for dim, (got, expected) in enumerate(zip(value.shape, view.shape)):
            if got != expected:
                raise ValueError(f"Cannot set tensor: Dimension mismatch. Got {got} but expected "
                                 f"{expected} for dimension {dim} of input {position}.")
        view[...] = value
        del view

    def resize_tensor_input(self, input_index, tensor_size, strict=False):
        self._ensure_safe()
        wanted = np.array(tensor_size, dtype=np.int32)
        current = np.array(self._model.tensors[self._check_index(input_index)]["shape"],
                           dtype=np.int32)
        if not np.array_equal(wanted, current):
            raise ValueError(
                f"tpufleet runs a model at the shapes it was converted with: input "
                f"{input_index} is {current.tolist()}, it cannot become {wanted.tolist()}")

    def _signature_defs(self):
        if self._signatures is None:
            if self._model_content is not None:
                data = bytes(self._model_content)
            else:
                with open(str(self._model_path), "rb") as f:
                    data = f.read()
            self._signatures = read_signatures(data)
        return self._signatures

    def get_signature_list(self):
        """{signature_key: {'inputs': [names], 'outputs': [names]}}."""
        return {key: {"inputs": sorted(s["inputs"]), "outputs": sorted(s["outputs"])}
                for key, s in self._signature_defs().items()}

    def _get_full_signature_list(self):
        """{signature_key: {'inputs': {name: tensor index}, 'outputs': {...}}}."""
        return {key: {"inputs": dict(s["inputs"]), "outputs": dict(s["outputs"])}
                for key, s in self._signature_defs().items()}

    def get_signature_runner(self, signature_key=None, method_name=None):
        """A SignatureRunner for `signature_key` (None: the model's only signature)."""
        key = signature_key if signature_key is not None else method_name
        signatures = self._signature_defs()
        if key is None:
            if len(signatures) != 1:
                raise ValueError(
                    f"SignatureDef signature_key is None and model has {len(signatures)} "
                    "Signatures. None is only allowed when the model has 1 SignatureDef")
            key = next(iter(signatures))
        if key not in signatures:
            raise ValueError("Invalid signature_key provided.")
        return SignatureRunner(self, key, signatures[key])

    def reset_all_variables(self):
        """Nothing to reset: tpufleet runs models without resource variables."""

    def _native_handle(self):
        return id(self)

    # For the packages over this one (pycoral): the tpufleet interpreter, and its device.
    def _tpufleet_interpreter(self):
        if self._native is None:
            raise RuntimeError("Invoke called on model that is not ready.")
        return self._native

    def _tpufleet_edgetpu_delegate(self):
        return self._delegates[0] if self._delegates else None


class SignatureRunner:
    """Runs an Interpreter by one of its SignatureDefs: inputs and outputs by name."""

    def __init__(self, interpreter, signature_key, signature):
        if signature["subgraph_index"] != 0:
            raise ValueError(
                f"signature '{signature_key}' runs subgraph {signature['subgraph_index']}; "
                "tpufleet runs a model's main subgraph (0) only")
        self._interpreter = interpreter
        self._inputs = signature["inputs"]
        self._outputs = signature["outputs"]

    def get_input_details(self):
        return {name: self._interpreter._get_tensor_details(index)
                for name, index in self._inputs.items()}

    def get_output_details(self):
        return {name: self._interpreter._get_tensor_details(index)
                for name, index in self._outputs.items()}

    def __call__(self, **kwargs):
        """{output name: array} for the inputs given by name."""
        if len(kwargs) != len(self._inputs):
            raise ValueError(
                "Invalid number of inputs provided for running a SignatureDef, expected "
                f"{len(self._inputs)} vs provided {len(kwargs)}")
        for name in kwargs:
            if name not in self._inputs:
                raise ValueError(f"Invalid Input name ({name}) for SignatureDef")
        self._interpreter.allocate_tensors()
        for name, value in kwargs.items():
            self._interpreter.set_tensor(self._inputs[name], value)
        self._interpreter.invoke()
        return {name: self._interpreter.get_tensor(index)
                for name, index in self._outputs.items()}
