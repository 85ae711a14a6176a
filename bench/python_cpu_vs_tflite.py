"""A CPU model invoked from Python through tpufleet's tflite_runtime-compatible Interpreter,
against TensorFlow Lite 2.9's C library (third_party/tflite-2.9) called from Python with
ctypes, on the same model and input, one thread each. Target: tpufleet at most 0.25x
TensorFlow Lite's time for mobilenet_v2_1.0_224_quant.

    PYTHONPATH=build/python/stage /usr/bin/python3 bench/python_cpu_vs_tflite.py [model] [lib]
"""
import os
import statistics
import sys
import time

import numpy as np

from tflite_runtime.interpreter import Interpreter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(HERE, "..", "..", "shared", "models",
                             "mobilenet_v2_1.0_224_quant.tflite")
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
from tflite_c import LIBRARY, TfLiteC  # noqa: E402  (the test tree's oracle, as the C++ benches)


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
    library = sys.argv[2] if len(sys.argv) > 2 else LIBRARY
    ours = Interpreter(model_path=path, num_threads=1)
    ours.allocate_tensors()
    detail = ours.get_input_details()[0]
    rng = np.random.default_rng(0)
    info = np.iinfo(detail["dtype"]) if np.issubdtype(detail["dtype"], np.integer) else None
    pixels = (rng.integers(info.min, info.max + 1, size=detail["shape"]).astype(detail["dtype"])
              if info else rng.standard_normal(detail["shape"]).astype(detail["dtype"]))
    ours.set_tensor(detail["index"], pixels)
    theirs = TfLiteC(path, library)
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
