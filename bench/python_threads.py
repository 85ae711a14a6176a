"""Two interpreters on two simulated Edge TPUs in real time, driven from two Python threads,
against one interpreter driven from one: the throughput ratio shows whether the GIL serialises
device work (2.0 when it does not at all, 1.0 when it does entirely).

    PYTHONPATH=build/python/stage /usr/bin/python3 bench/python_threads.py [model] [invocations]

The model (default mobilenet_v2_1.0_224_quant_edgetpu.tflite from ../shared/models) is given as
bytes, so the simulator has no uncompiled twin to compute outputs with: each invocation waits
for its modeled device time only, and the ratio measures the threading, not the host CPU."""
import os
import sys
import threading
import time

import tpufleet

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(HERE, "..", "..", "shared", "models",
                             "mobilenet_v2_1.0_224_quant_edgetpu.tflite")


def drive(interpreter, invocations):
    for _ in range(invocations):
        interpreter.invoke()


def seconds(interpreters, invocations):
    threads = [threading.Thread(target=drive, args=(i, invocations)) for i in interpreters]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    invocations = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with open(path, "rb") as f:
        model = tpufleet.Model.from_bytes(f.read())  # no name: no twin beside it
    interpreters = [tpufleet.make_interpreter(model, f"sim:{i}", real_time=True)
                    for i in range(2)]
    for interpreter in interpreters:
        interpreter.invoke()  # the parameters are cached before timing
    device_ms = interpreters[0].last_invocation["device_seconds"] * 1e3
    one = seconds(interpreters[:1], invocations)
    two = seconds(interpreters, invocations)
    ratio = (2 * invocations / two) / (invocations / one)
    print(f"model {os.path.basename(path)}, {device_ms:.2f} ms modeled per invocation, "
          f"{invocations} invocations per thread")
    print(f"one interpreter, one thread:   {invocations / one:8.1f} invocations/s")
    print(f"two interpreters, two threads: {2 * invocations / two:8.1f} invocations/s")
    print(f"throughput ratio: {ratio:.2f}x (target 1.9x)")


if __name__ == "__main__":
    main()
