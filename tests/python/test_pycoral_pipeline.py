"""pycoral.pipeline's PipelinedModelRunner over tpufleet: results against the unsegmented run,
outputs of every dtype sized in elements, queue sizes and blocking, shutdown, errors.

The compiled SSD segments run on simulated sticks for their timing only (the full SSD in
../shared/models is not the network they were compiled from), so results are checked on
pipelines of CPU models cut by `tpufleet split` ($TPUFLEET_CLI), which run the same runner
code: each segment on its own thread, tensors passed on by name."""
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import image, model
from pycoral.pipeline.pipelined_model_runner import PipelinedModelRunner
from pycoral.utils import edgetpu
from tflite_runtime.interpreter import Interpreter

CLASSIFIER = "mobilenet_v1_0.25_128_quant.tflite"
DETECTOR = "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite"
SEGMENTS = [f"ssd_mobilenet_v1_coco_quant_postprocess_segment_{i}_of_2_edgetpu.tflite"
            for i in range(2)]


def allocated(path, **kwargs):
    interpreter = Interpreter(model_path=path, **kwargs)
    interpreter.allocate_tensors()
    return interpreter


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    """The classifier cut in two by `tpufleet split`: the paths of its two segments."""
    cli = os.environ.get("TPUFLEET_CLI")
    if not cli:
        pytest.fail("TPUFLEET_CLI must name the tpufleet command (ctest sets it)")
    folder = tmp_path_factory.mktemp("segments")
    split = subprocess.run([cli, "split", model(CLASSIFIER), "--segments", "2", "-o",
                            str(folder), "--json"], capture_output=True, text=True, timeout=120)
    assert split.returncode == 0, split.stderr
    return [segment["file"] for segment in json.loads(split.stdout)["segments"]]


def direct_outputs(name, pixels):
    interpreter = allocated(model(name))
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels[np.newaxis])
    interpreter.invoke()
    return {d["name"]: interpreter.get_tensor(d["index"])
            for d in interpreter.get_output_details()}


def request(interpreter, pixels):
    return {interpreter.get_input_details()[0]["name"]: pixels[np.newaxis]}


def test_detector_outputs_are_float32_arrays_of_their_shapes():
    pixels = image("cat.bmp", (300, 300))
    runner = PipelinedModelRunner([allocated(model(DETECTOR))])
    runner.push(request(runner.interpreters()[0], pixels))
    runner.push({})
    result = runner.pop()
    assert runner.pop() is None and runner.pop() is None
    expected = direct_outputs(DETECTOR, pixels)
    assert set(result) == set(expected)
    for name, array in expected.items():
        assert result[name].dtype == array.dtype == np.float32
        assert result[name].shape == array.shape
        assert np.array_equal(result[name], array)


def test_two_segments_on_two_threads_give_each_request_its_result_in_order(halves):
    segments = [allocated(path) for path in halves]
    runner = PipelinedModelRunner(segments)
    images = [image(name, (128, 128)) for name in ("cat.bmp", "bird.bmp", "grace_hopper.bmp")]
    results = []
    consumer = threading.Thread(target=lambda: results.extend(iter(runner.pop, None)))
    consumer.start()
    for pixels in images * 3:
        runner.push(request(segments[0], pixels))
    runner.push({})
    consumer.join()
    assert len(results) == 9
    for pixels, result in zip(images * 3, results):
        assert all(np.array_equal(result[k], v)
                   for k, v in direct_outputs(CLASSIFIER, pixels).items())


def test_buffering_with_queues_of_one_is_two_per_segment_plus_one(halves):
    segments = [allocated(path) for path in halves]
    runner = PipelinedModelRunner(segments)
    runner.set_input_queue_size(1)
    runner.set_output_queue_size(1)
    one = request(segments[0], image("cat.bmp", (128, 128)))
    for _ in range(5):
        runner.push(one)  # would hang the test if it blocked
    sixth = threading.Thread(target=runner.push, args=(one,))
    sixth.start()
    sixth.join(timeout=1.0)
    assert sixth.is_alive(), "the 6th push did not block with every queue full"
    assert runner.pop() is not None
    sixth.join()
    drained = []
    stopper = threading.Thread(target=runner.push, args=({},))
    stopper.start()
    drained.extend(iter(runner.pop, None))
    stopper.join()
    assert len(drained) == 5


def test_constructor_errors():
    with pytest.raises(ValueError, match="^At least one interpreter expected$"):
        PipelinedModelRunner([])
    with pytest.raises(ValueError, match="^Interpreter 1 can not get its input tensors$"):
        PipelinedModelRunner([allocated(model(CLASSIFIER)), allocated(model(DETECTOR))])


def test_a_segment_output_no_later_segment_reads_is_refused():
    # PyCoral's native runner aborts the process on this; here the first request says why.
    runner = PipelinedModelRunner([allocated(model(CLASSIFIER)), allocated(model(CLASSIFIER))])
    with pytest.raises(ValueError, match="output 'MobilenetV1/Predictions/Reshape_1' is an input "
                                         "of no later segment"):
        runner.push(request(runner.interpreters()[0], image("cat.bmp", (128, 128))))


def test_push_errors_and_shutdown():
    interpreter = allocated(model(CLASSIFIER))
    runner = PipelinedModelRunner([interpreter])
    name = interpreter.get_input_details()[0]["name"]
    with pytest.raises(ValueError, match="^Expected input of length 1, but got 2$"):
        runner.push({name: np.zeros((1, 128, 128, 3), np.uint8), "other": np.zeros(1)})
    with pytest.raises(ValueError, match="Input should be a list of numpy array of type "
                                         "<class 'numpy.uint8'>"):
        runner.push({name: np.zeros((1, 128, 128, 3), np.float32)})
    with pytest.raises(KeyError):
        runner.push({"not an input": np.zeros((1, 128, 128, 3), np.uint8)})
    # The right dtype but not the model's size: this request's fault, and the pipeline runs on.
    with pytest.raises(ValueError, match="so it takes 49152 bytes, not 3"):
        runner.push({name: np.zeros(3, np.uint8)})
    runner.push({name: image("cat.bmp", (128, 128))[np.newaxis]})
    assert runner.pop() is not None
    runner.push({})
    with pytest.raises(RuntimeError, match="^Pipeline was turned off before.$"):
        runner.push({})
    assert runner.pop() is None


def test_closing_releases_a_consumer_waiting_in_pop(halves):
    # What the exit hook does to a runner still running: a pop waiting in another thread
    # returns None instead of waiting for ever.
    runner = PipelinedModelRunner([allocated(path) for path in halves])
    runner.push(request(runner.interpreters()[0], image("cat.bmp", (128, 128))))
    assert runner.pop() is not None
    results = []
    consumer = threading.Thread(target=lambda: results.append(runner.pop()))
    consumer.start()
    consumer.join(timeout=0.5)
    assert consumer.is_alive(), "pop returned with nothing to give"
    runner._close()
    consumer.join(timeout=60)
    assert not consumer.is_alive() and results == [None]


def test_unallocated_interpreters_fail_in_segment_0():
    interpreter = Interpreter(model_path=model(CLASSIFIER))
    runner = PipelinedModelRunner([interpreter])
    runner.push({interpreter.get_input_details()[0]["name"]: np.zeros((1, 128, 128, 3), np.uint8)})
    with pytest.raises(RuntimeError) as failure:
        runner.pop()
    assert str(failure.value) == ("Segment 0 runner error: Invoke called on model that is not "
                                  "ready.")
    with pytest.raises(RuntimeError, match="^Segment 0 runner error"):
        runner.push({})


def test_compiled_ssd_segments_chain_but_cannot_compute_on_simulated_sticks(simulated):
    segments = [edgetpu.make_interpreter(model(SEGMENTS[i]), device=f":{i}") for i in range(2)]
    # Segment 1's inputs are segment 0's outputs: the runner accepts the chain.
    assert ({d["name"] for d in segments[1].get_input_details()}
            <= {d["name"] for d in segments[0].get_output_details()})
    runner = PipelinedModelRunner(segments)
    runner.push({})
    assert runner.pop() is None
    # No full model the segment matches: the simulator refuses to give made-up outputs.
    with pytest.raises(RuntimeError, match="a simulated Edge TPU can time this model but not "
                                           "compute its outputs"):
        segments[0].allocate_tensors()


def test_a_program_that_never_stops_its_pipeline_still_exits(halves):
    script = f"""
import numpy as np
from pycoral.pipeline.pipelined_model_runner import PipelinedModelRunner
from tflite_runtime.interpreter import Interpreter
interpreters = [Interpreter(model_path=path) for path in {halves!r}]
for interpreter in interpreters:
    interpreter.allocate_tensors()
runner = PipelinedModelRunner(interpreters)
name = interpreters[0].get_input_details()[0]["name"]
for _ in range(3):
    runner.push({{name: np.zeros((1, 128, 128, 3), np.uint8)}})
print("pushed")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("pushed")
