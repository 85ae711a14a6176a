"""Python threads and the GIL against simulated Edge TPUs in real time (docs/python.md):
  1. two interpreters on two simulated sticks, each driven from its own Python thread, against
     one interpreter driven from one thread;
  2. a Fleet of two simulated sticks fed from one Python thread, against a Fleet of one.
A ratio of 2.0 means the GIL serialises no device work, 1.0 that it serialises all of it.

    PYTHONPATH=build/python/stage /usr/bin/python3 bench/python_threads.py [model] [invocations]

The simulated devices only time the model (sim_outputs off): each invocation waits for its
modeled device time and computes nothing on the host, so the ratios measure the threading, not
the host CPU (which on a small machine could not compute two models' outputs in parallel)."""
import collections
import os
import sys
import threading
import time

import tpufleet

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MODEL = os.path.join(HERE, "..", "..", "shared", "models",
                             "mobilenet_v2_1.0_224_quant_edgetpu.tflite")
TIMING = {"real_time": True, "sim_outputs": False}
IN_FLIGHT = 64  # requests a Fleet is given before the oldest is waited for


def drive(interpreter, invocations):
    for _ in range(invocations):
        interpreter.invoke()


def threads_seconds(target, args_per_thread):
    """Wall seconds of one thread per entry of `args_per_thread`, each running target(*args)."""
    threads = [threading.Thread(target=target, args=args) for args in args_per_thread]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def interpreter_seconds(interpreters, invocations):
    return threads_seconds(drive, [(i, invocations) for i in interpreters])


def fleet_seconds(model, devices, invocations):
    with tpufleet.Fleet(devices=devices, **TIMING) as fleet:
        model_id = fleet.add_model(model, devices)
        inputs = [t.array.copy() for t in
                  tpufleet.make_interpreter(model, "sim:0", **TIMING).inputs]
        fleet.run(model_id, inputs)  # the parameters are cached before timing
        start = time.perf_counter()
        in_flight = collections.deque()
        for _ in range(invocations):
            if len(in_flight) == IN_FLIGHT:  # within the fleet's queue capacity
                in_flight.popleft().result()
            in_flight.append(fleet.submit(model_id, inputs))
        for future in in_flight:
            future.result()
        return time.perf_counter() - start


def ratio_line(what, invocations, one, two):
    print(f"{what}: one {invocations / one:8.1f}/s, two {invocations / two:8.1f}/s, "
          f"ratio {one / two:.2f}x (target 1.9x)")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    invocations = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    model = tpufleet.Model.from_file(path)
    interpreters = [tpufleet.make_interpreter(model, f"sim:{i}", **TIMING) for i in range(2)]
    for interpreter in interpreters:
        interpreter.invoke()  # the parameters are cached before timing
    one = interpreter_seconds(interpreters[:1], invocations)
    two = interpreter_seconds(interpreters, invocations) / 2  # twice the invocations
    device_ms = interpreters[0].last_invocation["device_seconds"] * 1e3
    print(f"model {os.path.basename(path)}: {device_ms:.2f} ms modeled per invocation once its "
          "parameters are cached")
    ratio_line(f"interpreters from Python threads, {invocations} invocations per thread",
               invocations, one, two)
    one = fleet_seconds(model, ["sim:0"], 2 * invocations)
    two = fleet_seconds(model, ["sim:0", "sim:1"], 2 * invocations)
    ratio_line(f"Fleet fed from one thread, {2 * invocations} requests", 2 * invocations,
               one, two)


if __name__ == "__main__":
    main()
