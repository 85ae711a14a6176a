"""tpufleet.Fleet: many models on many devices, submissions answered as futures."""
import asyncio
import concurrent.futures

import numpy as np

from tpufleet import _native
from tpufleet.interpreter import load_model


class InferenceResult:
    """One answer: `outputs` (numpy arrays, in output order), `device` (the device that ran
    it), `device_seconds`, `timing_only`, `attempts`."""

    def __init__(self, answer):
        self.outputs = answer["outputs"]
        self.device = answer["device"]
        self.device_seconds = answer["device_seconds"]
        self.timing_only = answer["timing_only"]
        self.attempts = answer["attempts"]

    def __repr__(self):
        return (f"<tpufleet.InferenceResult {len(self.outputs)} outputs from {self.device}, "
                f"{self.device_seconds * 1e3:.3f} ms on the device>")


class Fleet:
    """Models on devices, one worker thread per device (docs/fleet.md). Options as keywords:
    devices (device strings), queue_capacity, strict, max_batch, preparation_threads,
    invocation_timeout_seconds, and the device options (sim_topology_json, sim_full_models,
    real_time, cpu_threads, edgetpu_options, isolate). Use it as a context manager, or close()
    it."""

    def __init__(self, **options):
        self._native = _native.Fleet(options)
        self._answers = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(4, 2 * len(self._native.device_names)),
            thread_name_prefix="tpufleet-answers")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Answers what is queued, then stops the workers."""
        self._native.close()
        self._answers.shutdown(wait=True)

    @property
    def device_names(self):
        return self._native.device_names

    def add_model(self, model, devices=()):
        """Adds a model (a path, bytes, or tpufleet.Model) on `devices` (device strings of the
        fleet's devices; none: automatic placement). Returns its id."""
        return self._native.add_model(load_model(model), list(devices))

    def placement(self, model):
        return self._native.placement(model)

    def _future(self, pending):
        return self._answers.submit(lambda: InferenceResult(pending.wait()))

    def submit(self, model, inputs):
        """Queues one inference of model id `model` on `inputs` (arrays in input order, of
        the inputs' dtypes and sizes). Returns a concurrent.futures.Future of an
        InferenceResult; its exception is a tpufleet.Error when the inference failed."""
        if isinstance(inputs, np.ndarray):
            inputs = [inputs]
        return self._future(self._native.submit(model, list(inputs)))

    def submit_image(self, model, image_path):
        """Queues the image file at `image_path`, decoded and resized on the fleet's own
        preparation threads (no GIL), as submit does with arrays."""
        return self._future(self._native.submit_image(model, str(image_path)))

    async def submit_async(self, model, inputs):
        """submit for asyncio: awaits the InferenceResult."""
        return await asyncio.wrap_future(self.submit(model, inputs))

    def run(self, model, inputs):
        """submit and wait."""
        return self.submit(model, inputs).result()

    def metrics(self):
        """Counters and latencies per device and per model, as a dict."""
        return self._native.metrics()

    def metrics_json(self):
        return self._native.metrics_json()

    def metrics_prometheus(self):
        return self._native.metrics_prometheus()
