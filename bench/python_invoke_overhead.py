"""What Python adds to one invoke(): tpufleet's Interpreter.invoke() from Python against
Interpreter::Invoke() from C++ (build/bench/invoke_overhead, run by this script in the same run),
on the same model and a zero-time simulated device (virtual time, timing only: the device
neither waits nor computes). Target: under 5 us added.

    PYTHONPATH=build/python/stage /usr/bin/python3 bench/python_invoke_overhead.py \
        [model] [build/bench/invoke_overhead]
"""
import os
import statistics
import subprocess
import sys
import time

import tpufleet

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(HERE, "..", "..", "shared", "models",
                             "mobilenet_v2_1.0_224_quant_edgetpu.tflite")
DEFAULT_ANCHOR = os.path.join(HERE, "..", "build", "bench", "invoke_overhead")
CALLS = 1000


def python_invoke_us(path):
    """Median microseconds per invoke() over runs of CALLS calls (about 2 s in all)."""
    interpreter = tpufleet.make_interpreter(path, "sim:0", real_time=False, sim_outputs=False)
    invoke = interpreter.invoke
    for _ in range(CALLS):
        invoke()
    runs = []
    deadline = time.perf_counter() + 2.0
    while len(runs) < 5 or time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(CALLS):
            invoke()
        runs.append((time.perf_counter() - start) / CALLS * 1e6)
    return statistics.median(runs)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    anchor = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_ANCHOR
    line = subprocess.run([anchor, path, "--calls", str(CALLS)], check=True,
                          capture_output=True, text=True).stdout.split()
    cpp_us = float(line[1])
    py_us = python_invoke_us(path)
    print(f"model {os.path.basename(path)} on a zero-time simulated device")
    print(f"invoke(): Python {py_us:.2f} us, C++ {cpp_us:.2f} us, Python adds "
          f"{py_us - cpp_us:.2f} us (target < 5 us)")


if __name__ == "__main__":
    main()
