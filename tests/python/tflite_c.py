"""TensorFlow Lite 2.9's C library (third_party/tflite-2.9, the project's oracle) called with
ctypes: the few calls that run a model from a file on one thread."""
import ctypes
import os

import numpy as np

LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "third_party",
                       "tflite-2.9", "lib", "libtensorflowlite_c.so")


class TfLiteC:
    """A model prepared by TensorFlow Lite's C API on one thread; `library` is LIBRARY by
    default."""

    def __init__(self, model_path, library=LIBRARY):
        lib = ctypes.CDLL(library)
        vp, i32 = ctypes.c_void_p, ctypes.c_int32
        for name, result, args in (
                ("TfLiteModelCreateFromFile", vp, [ctypes.c_char_p]),
                ("TfLiteInterpreterOptionsCreate", vp, []),
                ("TfLiteInterpreterOptionsSetNumThreads", None, [vp, i32]),
                ("TfLiteInterpreterCreate", vp, [vp, vp]),
                ("TfLiteInterpreterAllocateTensors", ctypes.c_int, [vp]),
                ("TfLiteInterpreterGetInputTensor", vp, [vp, i32]),
                ("TfLiteInterpreterGetOutputTensor", vp, [vp, i32]),
                ("TfLiteTensorCopyFromBuffer", ctypes.c_int, [vp, vp, ctypes.c_size_t]),
                ("TfLiteTensorCopyToBuffer", ctypes.c_int, [vp, vp, ctypes.c_size_t]),
                ("TfLiteInterpreterInvoke", ctypes.c_int, [vp]),
                ("TfLiteInterpreterDelete", None, [vp]),
                ("TfLiteInterpreterOptionsDelete", None, [vp]),
                ("TfLiteModelDelete", None, [vp])):
            function = getattr(lib, name)
            function.restype, function.argtypes = result, args
        self._lib = lib
        self._model = lib.TfLiteModelCreateFromFile(model_path.encode())
        if not self._model:
            raise RuntimeError(f"TensorFlow Lite could not load {model_path}")
        self._options = lib.TfLiteInterpreterOptionsCreate()
        lib.TfLiteInterpreterOptionsSetNumThreads(self._options, 1)
        self._interpreter = lib.TfLiteInterpreterCreate(self._model, self._options)
        if not self._interpreter or lib.TfLiteInterpreterAllocateTensors(self._interpreter):
            raise RuntimeError(f"TensorFlow Lite could not prepare {model_path}")

    def set_input(self, array):
        tensor = self._lib.TfLiteInterpreterGetInputTensor(self._interpreter, 0)
        if self._lib.TfLiteTensorCopyFromBuffer(tensor, array.ctypes.data, array.nbytes):
            raise RuntimeError("TfLiteTensorCopyFromBuffer failed")

    def invoke(self):
        if self._lib.TfLiteInterpreterInvoke(self._interpreter):
            raise RuntimeError("TfLiteInterpreterInvoke failed")

    def output(self, like):
        out = np.empty_like(like)
        tensor = self._lib.TfLiteInterpreterGetOutputTensor(self._interpreter, 0)
        if self._lib.TfLiteTensorCopyToBuffer(tensor, out.ctypes.data, out.nbytes):
            raise RuntimeError("TfLiteTensorCopyToBuffer failed")
        return out

    def close(self):
        self._lib.TfLiteInterpreterDelete(self._interpreter)
        self._lib.TfLiteInterpreterOptionsDelete(self._options)
        self._lib.TfLiteModelDelete(self._model)
