"""The deprecated Edge TPU Python API (edgetpu) over tpufleet on simulated rigs: device
assignment (PCIe first, one engine per device, the N+1-th fails, device_path() shares), the
engines' results against the CPU model, and their errors."""
import gc
import json

import numpy as np
import pytest
from PIL import Image

from conftest import model, shared_file
from edgetpu.basic import edgetpu_utils
from edgetpu.basic.basic_engine import BasicEngine
from edgetpu.classification.engine import ClassificationEngine
from edgetpu.detection.engine import DetectionEngine
from edgetpu.utils import dataset_utils
from tflite_runtime.interpreter import Interpreter

CLASSIFIER = "mobilenet_v1_0.25_128_quant_edgetpu.tflite"
DETECTOR = "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite"
ALL_MAPPED = ("Multiple Edge TPUs detected and all have been mapped to at least one model. If "
              "you want to share one Edge TPU with multiple models, specify `device_path` name.")


@pytest.fixture
def rig(monkeypatch, tmp_path):
    """rig(links): TPUFLEET_SIMULATE set to a simulated rig with those links."""
    def make(links):
        path = tmp_path / "rig.json"
        path.write_text(json.dumps({"devices": [{"link": link} for link in links]}))
        monkeypatch.setenv("TPUFLEET_SIMULATE", str(path))
    yield make
    gc.collect()  # engines of a failed test release their devices before the next test


def paths(state):
    return edgetpu_utils.ListEdgeTpuPaths(state)


def test_engines_without_a_path_take_a_device_each_pcie_first(rig):
    rig(["usb3", "pcie", "usb3"])
    assert paths(edgetpu_utils.EDGE_TPU_STATE_NONE) == ("sim:1", "sim:0", "sim:2")
    engines = []
    for expected in ("sim:1", "sim:0", "sim:2"):
        assert paths(edgetpu_utils.EDGE_TPU_STATE_UNASSIGNED)[0] == expected
        engines.append(BasicEngine(model(CLASSIFIER)))
        assert engines[-1].device_path() == expected
    assert paths(edgetpu_utils.EDGE_TPU_STATE_ASSIGNED) == ("sim:1", "sim:0", "sim:2")
    assert paths(edgetpu_utils.EDGE_TPU_STATE_UNASSIGNED) == ()
    with pytest.raises(RuntimeError) as failure:
        BasicEngine(model(CLASSIFIER))
    assert str(failure.value) == ALL_MAPPED
    shared = ClassificationEngine(model(CLASSIFIER), engines[1].device_path())
    assert shared.device_path() == "sim:0"
    del engines[0]
    assert paths(edgetpu_utils.EDGE_TPU_STATE_UNASSIGNED) == ("sim:1",)
    assert BasicEngine(model(CLASSIFIER)).device_path() == "sim:1"


def test_one_device_is_shared_by_every_engine(rig):
    rig(["usb3"])
    engines = [BasicEngine(model(CLASSIFIER)) for _ in range(3)]
    assert {e.device_path() for e in engines} == {"sim:0"}
    assert paths(edgetpu_utils.EDGE_TPU_STATE_ASSIGNED) == ("sim:0",)


def test_a_cpu_model_claims_a_device_too(rig):
    rig(["usb3", "usb3"])
    engine = BasicEngine(model("mobilenet_v1_0.25_128_quant.tflite"))
    assert paths(edgetpu_utils.EDGE_TPU_STATE_ASSIGNED) == (engine.device_path(),)
    del engine
    assert paths(edgetpu_utils.EDGE_TPU_STATE_ASSIGNED) == ()


def test_device_errors(rig):
    rig([])
    with pytest.raises(RuntimeError, match="^No Edge TPU device detected!$"):
        BasicEngine(model(CLASSIFIER))
    rig(["usb3", "usb3"])
    with pytest.raises(RuntimeError) as failure:
        BasicEngine(model(CLASSIFIER), "/dev/apex_7")
    assert str(failure.value) == "Path /dev/apex_7 does not map to an Edge TPU device."
    assert paths(edgetpu_utils.EDGE_TPU_STATE_ASSIGNED) == ()


def cpu_scores(name, pixels):
    """The dequantized scores of the uncompiled model `name` on the CPU."""
    interpreter = Interpreter(model_path=model(name))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels[np.newaxis])
    interpreter.invoke()
    output = interpreter.get_output_details()[0]
    scale, zero_point = output["quantization"]
    return (interpreter.get_tensor(output["index"])[0].astype(np.float32) - zero_point) * \
        np.float32(scale)


def test_classification_engine_matches_the_cpu_model(rig):
    rig(["usb3", "usb3"])
    engine = ClassificationEngine(model("mobilenet_v2_1.0_224_quant_edgetpu.tflite"))
    assert engine.get_input_tensor_shape().tolist() == [1, 224, 224, 3]
    assert engine.get_input_tensor_shape().dtype == np.int32
    with Image.open(shared_file("images", "cat.bmp")) as img:
        img = img.convert("RGB")
        (top,) = engine.classify_with_image(img, top_k=1)
        pixels = np.asarray(img.resize((224, 224), Image.NEAREST))
    labels = dataset_utils.read_label_file(shared_file("labels", "imagenet_labels.txt"))
    assert top[0] == 286 and labels[top[0]] == "Egyptian"  # the first token of an id-less line
    latency, scores = engine.run_inference(pixels.flatten())
    assert latency >= 0.0 and scores.dtype == np.float32 and scores.shape == (1001,)
    assert np.array_equal(scores, cpu_scores("mobilenet_v2_1.0_224_quant.tflite", pixels))
    top5 = engine.classify_with_input_tensor(pixels.flatten(), top_k=5)
    # threshold 0.0: only scores strictly above it count.
    assert [score for _, score in top5] == [s for s in sorted(scores, reverse=True)[:5] if s > 0]
    assert all(scores[label] == score for label, score in top5)
    with pytest.raises(ValueError, match="top_k must be positive!"):
        engine.classify_with_input_tensor(pixels.flatten(), top_k=0)


def test_detection_engine_finds_the_cat(rig):
    rig(["usb3", "usb3"])
    engine = DetectionEngine(model(DETECTOR))
    assert engine.get_all_output_tensors_sizes().tolist() == [40, 10, 10, 1]
    assert engine.get_all_output_tensors_sizes().dtype == np.uint64
    labels = dataset_utils.read_label_file(shared_file("labels", "coco_labels.txt"))
    with Image.open(shared_file("images", "cat.bmp")) as img:
        img = img.convert("RGB")
        relative = engine.detect_with_image(img, threshold=0.5, top_k=10)
        absolute = engine.detect_with_image(img, threshold=0.5, top_k=10, relative_coord=False)
        kept = engine.detect_with_image(img, threshold=0.5, top_k=10, keep_aspect_ratio=True)
        width, height = img.size
    assert relative and labels[relative[0].label_id] == "cat"
    assert 0.6 < relative[0].score < 0.9
    scores = [c.score for c in relative]
    assert scores == sorted(scores, reverse=True)
    for candidate in relative + kept:
        box = candidate.bounding_box
        assert box.shape == (2, 2) and (box >= 0.0).all() and (box <= 1.0).all()
        assert (box[1] > box[0]).all()
    assert np.allclose(absolute[0].bounding_box, relative[0].bounding_box * (width, height))
    assert labels[kept[0].label_id] == "cat"


def test_engine_errors():
    with pytest.raises(RuntimeError, match="Could not open '/nonexistent.tflite'."):
        BasicEngine("/nonexistent.tflite")


def test_engine_shape_and_size_errors(rig):
    rig(["usb3", "usb3"])
    with pytest.raises(ValueError, match="should have 1 output tensor only"):
        ClassificationEngine(model(DETECTOR))
    with pytest.raises(ValueError, match="should have 4 output tensors"):
        DetectionEngine(model(CLASSIFIER))
    engine = BasicEngine(model(CLASSIFIER))
    assert engine.required_input_array_size() == 128 * 128 * 3
    assert engine.get_num_of_output_tensors() == 1
    assert engine.get_output_tensor_size(0) == engine.total_output_array_size() == 1001
    with pytest.raises(RuntimeError, match="tensor_index must >= 0!"):
        engine.get_output_tensor_size(-1)
    with pytest.raises(RuntimeError, match="tensor_index doesn't exist!"):
        engine.get_output_tensor_size(1)
    with pytest.raises(AssertionError, match=r"Wrong input size=5, expected=49152."):
        engine.run_inference(bytes(49152), 5)
    with pytest.raises(AssertionError):
        engine.run_inference(bytes(100))
    _, longer = engine.run_inference(bytes(49152 + 10))  # longer input: its first bytes count
    assert longer.shape == (1001,)
