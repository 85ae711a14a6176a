"""pycoral.pipeline.pipelined_model_runner: a model cut into segments (edgetpu_compiler
--num_segments), one interpreter per segment, each on its own thread, requests flowing through
queues between them.

As PyCoral: the input and output queues are unbounded until set_*_queue_size; the queues
between segments hold 1; push({}) shuts the pipeline down once what is queued has gone through;
the first failing segment is reported as 'Segment {i} runner error: ...' and stops the
pipeline. Unlike PyCoral, pop() gives outputs of every dtype with their element counts (PyCoral
sizes them in bytes, so multi-byte outputs fail to reshape), and push() matches inputs by name
in any order. The GIL is released while a segment invokes and while push or pop waits.
"""
import atexit
import threading
import weakref

import numpy as np


class _Closed(Exception):
    """The queue was closed because a segment failed."""


class _Queue:
    """A FIFO whose maximum size can change while it is used (None: unbounded)."""

    def __init__(self, max_size=None):
        self._items = []
        self._max_size = max_size
        self._closed = False
        self._changed = threading.Condition()

    def set_max_size(self, max_size):
        with self._changed:
            self._max_size = max_size
            self._changed.notify_all()

    def put(self, item):
        with self._changed:
            while (not self._closed and self._max_size is not None
                   and len(self._items) >= self._max_size):
                self._changed.wait()
            if self._closed:
                raise _Closed()
            self._items.append(item)
            self._changed.notify_all()

    def get(self):
        with self._changed:
            while not self._closed and not self._items:
                self._changed.wait()
            if self._closed:
                raise _Closed()
            item = self._items.pop(0)
            self._changed.notify_all()
            return item

    def close(self):
        with self._changed:
            self._closed = True
            self._changed.notify_all()


_SHUTDOWN = None  # the request that stops each segment after it passes it on


class _Segment:
    """An interpreter of the pipeline, its input and output names, and `needed_later`: the
    tensors it receives that segments after it read."""

    def __init__(self, interpreter, needed_later):
        self.interpreter = interpreter
        self.input_names = [d["name"] for d in interpreter.get_input_details()]
        self.output_names = [d["name"] for d in interpreter.get_output_details()]
        self.needed_later = needed_later


class _Pipeline:
    """The queues, the segment threads and the first error; held by the threads, so that the
    runner itself can be garbage-collected (its __del__ stops the pipeline)."""

    def __init__(self, interpreters, needed_later):
        count = len(interpreters)
        self.queues = [_Queue()] + [_Queue(1) for _ in range(count - 1)] + [_Queue()]
        self.error = None
        self._error_lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run_segment,
                             args=(i, _Segment(interpreters[i], needed_later[i])),
                             name=f"pipeline segment {i}", daemon=True)
            for i in range(count)]
        for thread in self.threads:
            thread.start()

    def stop(self):
        """Stops the segments now, dropping what is queued."""
        for queue in self.queues:
            queue.close()
        for thread in self.threads:
            thread.join()

    def fail(self, segment, message):
        with self._error_lock:
            if self.error is None:
                self.error = f"Segment {segment} runner error: {message}"
        for queue in self.queues:
            queue.close()

    def _run_segment(self, position, segment):
        inbox, outbox = self.queues[position], self.queues[position + 1]
        try:
            while True:
                request = inbox.get()
                if request is _SHUTDOWN:
                    outbox.put(_SHUTDOWN)
                    return
                try:
                    outputs = _invoke(segment, request)
                except Exception as e:  # the interpreter's failure, reported as PyCoral does
                    self.fail(position, str(e))
                    return
                passed_on = {name: request[name] for name in segment.needed_later
                             if name in request}
                passed_on.update(outputs)
                outbox.put(passed_on)
        except _Closed:
            return


def _invoke(segment, tensors):
    """Runs `segment` on `tensors` ({name: array}); its outputs as {name: copy}."""
    native = segment.interpreter._tpufleet_interpreter()  # RuntimeError when not allocated
    for i, name in enumerate(segment.input_names):
        view = native.input(i)
        view[...] = tensors[name].reshape(view.shape)
        del view
    native.invoke()  # the GIL is released meanwhile
    if native.last_invocation["timing_only"]:
        raise RuntimeError(
            "the simulated Edge TPU could only time this segment, not compute its outputs: "
            "compiled segments have no uncompiled twin to compute them through")
    return {name: native.output(i).copy() for i, name in enumerate(segment.output_names)}


_running = weakref.WeakSet()  # runners whose segments may still run


@atexit.register
def _stop_at_exit():
    # The segment threads are daemons, which stop running while Python finalises: a runner
    # still running then would wait for them for ever in __del__. Stop them while they can run.
    for runner in list(_running):
        runner._turned_off = True
        runner._pipeline.stop()


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
        # needed_later[i]: tensors segment i receives that segments after it read.
        needed_later, later = [], set()
        for interpreter in reversed(interpreters):
            needed_later.insert(0, set(later))
            later |= {d["name"] for d in interpreter.get_input_details()}
        self._input_types = {d["name"]: d["dtype"] for d in interpreters[0].get_input_details()}
        self._output_shapes = {d["name"]: tuple(d["shape"])
                               for d in interpreters[-1].get_output_details()}
        self._turned_off = False
        self._drained = False
        self._pipeline = _Pipeline(interpreters, needed_later)
        _running.add(self)

    def set_input_queue_size(self, size):
        """Pushes block while `size` requests wait for the first segment."""
        self._pipeline.queues[0].set_max_size(size)

    def set_output_queue_size(self, size):
        """The last segment blocks while `size` results wait for pop()."""
        self._pipeline.queues[-1].set_max_size(size)

    def interpreters(self):
        return self._interpreters

    def _raise_error(self):
        raise RuntimeError(self._pipeline.error)

    def push(self, input_tensors):
        """Queues a request ({input name: array}, copied), blocking while the input queue is
        full; {} shuts the pipeline down, returning once every queued request has gone
        through."""
        if self._pipeline.error is not None:
            self._raise_error()
        if self._turned_off:
            raise RuntimeError("Pipeline was turned off before.")
        if not input_tensors:
            self._turned_off = True
            self._put(_SHUTDOWN)
            for thread in self._pipeline.threads:
                thread.join()
            if self._pipeline.error is not None:
                self._raise_error()
            return
        if len(input_tensors) != len(self._input_types):
            raise ValueError(f"Expected input of length {len(self._input_types)}, but got "
                             f"{len(input_tensors)}")
        request = {}
        for name, value in input_tensors.items():
            dtype = self._input_types[name]
            if not isinstance(value, np.ndarray) or value.dtype != dtype:
                raise ValueError(f"Input should be a list of numpy array of type {dtype}")
            request[name] = value.copy()
        self._put(request)

    def _put(self, request):
        try:
            self._pipeline.queues[0].put(request)
        except _Closed:
            self._raise_error()

    def pop(self):
        """The next result ({output name: array} in the last segment's output shapes), blocking
        until there is one; None once the pipeline is shut down and drained."""
        if self._drained:
            return None
        try:
            result = self._pipeline.queues[-1].get()
        except _Closed:
            self._raise_error()
        if result is _SHUTDOWN:
            self._drained = True
            return None
        return {name: result[name].reshape(shape) for name, shape in self._output_shapes.items()}

    def __del__(self):
        if not hasattr(self, "_pipeline"):
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
