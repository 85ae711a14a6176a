"""A CPU model invoked from Python through tpufleet's tflite_runtime-compatible Interpreter,
against TensorFlow Lite 2.9's C library (third_party/tflite-2.9) called from Python with
ctypes, on the same model and input, one thread each. Target: tpufleet at most 0.25x
TensorFlow Lite's time for mobilenet_v2_1.0_224_quant.

    PYTHONPATH=build/python/stage /usr/bin/python3 bench/python_cpu_vs_tflite.py [model] [lib]
"""
import ctypes
import os
import statistics
import sys
import time

import numpy as np

from tflite_runtime.interpreter import Interpreter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(HERE, "..", "..", "shared", "models",
                             "mobilenet_v2_1.0_224_quant.tflite")
DEFAULT_LIB = os.path.join(HERE, "..", "third_party", "tflite-2.9", "lib",
                           "libtensorflowlite_c.so")


class TfLiteC:
    """The few calls of TensorFlow Lite's C API that run a model on one thread."""

    def __init__(self, library, model_path):
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


def median_ms(invoke, budget=5.0):
    invoke()
    invoke()
    times = []
    deadline = time.perf_counter() + budget
    while len(times) < 5 or time.perf_counter() < deadline:
        start = time.perf_counter()
        invoke()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    library = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_LIB
    ours = Interpreter(model_path=path, num_threads=1)
    ours.allocate_tensors()
    detail = ours.get_input_details()[0]
    rng = np.random.default_rng(0)
    info = np.iinfo(detail["dtype"]) if np.issubdtype(detail["dtype"], np.integer) else None
    pixels = (rng.integers(info.min, info.max + 1, size=detail["shape"]).astype(detail["dtype"])
              if info else rng.standard_normal(detail["shape"]).astype(detail["dtype"]))
    ours.set_tensor(detail["index"], pixels)
    theirs = TfLiteC(library, path)
    theirs.set_input(pixels)
    ours_ms = median_ms(ours.invoke)
    theirs_ms = median_ms(theirs.invoke)
    output = ours.get_output_details()[0]
    ours_out = ours.get_tensor(output["index"])
    theirs_out = theirs.output(ours_out)
    theirs.close()
    print(f"model {os.path.basename(path)}, one thread, the same random input")
    print(f"invoke: tpufleet {ours_ms:.2f} ms, TensorFlow Lite 2.9 {theirs_ms:.2f} ms, ratio "
          f"{ours_ms / theirs_ms:.3f}x (target at most 0.25x)")
    difference = np.abs(ours_out.astype(np.int64) - theirs_out.astype(np.int64)).max()
    print(f"outputs: largest difference {difference} (of {output['dtype'].__name__} values)")


if __name__ == "__main__":
    main()
