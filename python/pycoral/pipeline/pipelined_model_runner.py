"""pycoral.pipeline.pipelined_model_runner: a model cut into segments (edgetpu_compiler
--num_segments), one interpreter per segment, run by tpufleet's C++ pipeline runner
(tpufleet/pipeline.h): a thread per segment, requests flowing through queues between them.

As PyCoral: the input and output queues are unbounded until set_*_queue_size; the queues
between segments hold 1; push({}) shuts the pipeline down once what is queued has gone through;
the first failing segment is reported as 'Segment {i} runner error: ...' and stops the
pipeline. Unlike PyCoral, pop() gives outputs of every dtype with their element counts (PyCoral
sizes them in bytes, so multi-byte outputs fail to reshape), and push() matches inputs by name
in any order. The segments run without the GIL, and push and pop wait without it.
"""
import atexit
import threading
import weakref

import numpy as np

from tpufleet import _native

_TIMED_ONLY = ("the simulated Edge TPU could only time this segment, not compute its outputs: "
               "compiled segments have no uncompiled twin to compute them through")

_running = weakref.WeakSet()  # runners whose segments may still run


@atexit.register
def _stop_at_exit():
    # A runner still running at exit would have its segment threads invoke while Python
    # finalises. Stop them while it can.
    for runner in list(_running):
        runner._close()


class PipelinedModelRunner:
    """Runs `interpreters` (allocated, one per segment, in order) as a pipeline."""

    def __init__(self, interpreters):
        if not interpreters:
            raise ValueError("At least one interpreter expected")
        self._interpreters = interpreters
        available = {d["name"] for d in interpreters[0].get_input_details()}
        for i, interpreter in enumerate(interpreters):
            names = {d["name"] for d in interpreter.get_input_details()}
            if not names <= available:
                raise ValueError(f"Interpreter {i} can not get its input tensors")
            available |= {d["name"] for d in interpreter.get_output_details()}
        inputs = interpreters[0].get_input_details()
        self._input_names = [d["name"] for d in inputs]
        self._input_types = {d["name"]: d["dtype"] for d in inputs}
        self._output_shapes = {d["name"]: tuple(d["shape"])
                               for d in interpreters[-1].get_output_details()}
        self._queue_sizes = [0, 0]  # 0: unbounded
        self._native = None  # started by the first request, when the interpreters are allocated
        self._starting = threading.Lock()
        self._error = None
        self._turned_off = False
        self._drained = False
        self._closed = False

    def set_input_queue_size(self, size):
        """Pushes block while `size` requests wait for the first segment."""
        with self._starting:
            self._queue_sizes[0] = size
            if self._native is not None and not self._closed:
                self._native.set_input_queue_size(size)

    def set_output_queue_size(self, size):
        """The last segment blocks while `size` results wait for pop()."""
        with self._starting:
            self._queue_sizes[1] = size
            if self._native is not None and not self._closed:
                self._native.set_output_queue_size(size)

    def interpreters(self):
        return self._interpreters

    def _raise_error(self):
        raise RuntimeError(self._error)

    def _fail(self, message):
        if self._error is None:
            self._error = message
        self._close()
        self._raise_error()

    def _close(self):
        self._closed = True
        if self._native is not None:
            self._native.close()
        _running.discard(self)

    def _start(self):
        """Starts the native runner over the segments' interpreters, which must be allocated by
        now; False when one is not: segment i has failed, as PyCoral's would on its first
        invocation."""
        with self._starting:
            if self._native is not None:
                return True
            segments = []
            for i, interpreter in enumerate(self._interpreters):
                try:
                    segments.append(interpreter._tpufleet_interpreter())
                except RuntimeError as e:
                    if self._error is None:
                        self._error = f"Segment {i} runner error: {e}"
                    return False
            try:
                self._native = _native.PipelineRunner(segments, *self._queue_sizes)
            except _native.Error as e:  # segments that do not connect by type and size
                raise ValueError(str(e)) from None
            _running.add(self)
            return True

    def push(self, input_tensors):
        """Queues a request ({input name: array}, copied), blocking while the input queue is
        full; {} shuts the pipeline down, returning once every queued request has gone
        through."""
        if self._error is not None:
            self._raise_error()
        if self._turned_off:
            raise RuntimeError("Pipeline was turned off before.")
        if not input_tensors:
            self._turned_off = True
            if self._native is not None and not self._closed:
                self._call(self._native.shutdown)
            return
        if len(input_tensors) != len(self._input_types):
            raise ValueError(f"Expected input of length {len(self._input_types)}, but got "
                             f"{len(input_tensors)}")
        for name, value in input_tensors.items():
            dtype = self._input_types[name]
            if not isinstance(value, np.ndarray) or value.dtype != dtype:
                raise ValueError(f"Input should be a list of numpy array of type {dtype}")
        if self._start():
            try:
                self._native.push([input_tensors[name] for name in self._input_names])
            except _native.Error as e:
                if e.code == "INVALID_ARGUMENT":  # this request's fault: the pipeline runs on
                    raise ValueError(str(e)) from None
                self._fail(self._error or str(e))

    def _call(self, method, *args):
        try:
            return method(*args)
        except _native.Error as e:
            self._fail(self._error or str(e))

    def pop(self):
        """The next result ({output name: array} in the last segment's output shapes), blocking
        until there is one; None once the pipeline is shut down and drained."""
        if self._error is not None:
            self._raise_error()
        if self._drained or self._closed or self._native is None and self._turned_off:
            return None
        if not self._start():
            self._raise_error()
        result = self._call(self._native.pop)
        if self._error is not None:  # failed meanwhile, in another thread
            self._raise_error()
        if result is None and self._closed:
            return None
        for i, count in enumerate(self._call(self._native.timing_only)):
            if count:
                self._fail(f"Segment {i} runner error: {_TIMED_ONLY}")
        if result is None:
            self._drained = True
            _running.discard(self)
            return None
        return {name: result[name].reshape(shape) for name, shape in self._output_shapes.items()}

    def __del__(self):
        if not hasattr(self, "_native"):
            return
        print("Push empty request to stop the pipeline...")
        try:
            self.push({})
        except RuntimeError:
            print("The pipeline has already been closed successfully.")
            return
        unconsumed = 0
        while self.pop() is not None:
            unconsumed += 1
        if unconsumed:
            print(f"WARNING: {unconsumed} output tensors were not consumed by pop(); they are "
                  "discarded")
