"""pycoral over tpufleet on the simulated rig (TPUFLEET_SIMULATE=1): Coral's classify and
detect flows on the real models, device selection, run_inference, labels, boxes."""
import ctypes
import gc
import os

import numpy as np
import pytest
from PIL import Image

from conftest import image, model, shared_file
from pycoral.adapters import classify, common, detect
from pycoral.utils import dataset, edgetpu

pytestmark = pytest.mark.usefixtures("simulated")


def classify_file(model_name, image_name, device=None, top_k=1):
    interpreter = edgetpu.make_interpreter(model(model_name), device)
    interpreter.allocate_tensors()
    with Image.open(shared_file("images", image_name)) as img:
        common.set_input(interpreter,
                         img.convert("RGB").resize(common.input_size(interpreter), Image.BILINEAR))
    interpreter.invoke()
    return classify.get_classes(interpreter, top_k=top_k)


def test_list_edge_tpus_is_the_simulated_rig():
    assert edgetpu.list_edge_tpus() == [{"type": "usb", "path": "sim:0"},
                                        {"type": "usb", "path": "sim:1"}]


def test_classify_compiled_model_on_a_simulated_stick():
    labels = dataset.read_label_file(shared_file("labels", "imagenet_labels.txt"))
    (top,) = classify_file("mobilenet_v2_1.0_224_quant_edgetpu.tflite", "cat.bmp", ":0")
    assert top.id == 286 and labels[top.id] == "Egyptian cat"
    assert 0.5 < top.score <= 1.0


def test_classify_bird_on_the_second_stick():
    labels = dataset.read_label_file(shared_file("labels", "inat_bird_labels.txt"))
    (top,) = classify_file("mobilenet_v2_1.0_224_inat_bird_quant_edgetpu.tflite", "bird.bmp",
                           "usb:1")
    assert top.id == 659
    assert labels[top.id] == "Poecile atricapillus (Black-capped Chickadee)"


def test_get_classes_thresholds_and_orders():
    classes = classify_file("mobilenet_v2_1.0_224_quant_edgetpu.tflite", "cat.bmp", top_k=5)
    assert len(classes) == 5
    scores = [c.score for c in classes]
    assert scores == sorted(scores, reverse=True)
    assert classify.get_classes_from_scores(np.array([0.1, 0.7, 0.2]), top_k=2) == [
        classify.Class(1, 0.7), classify.Class(2, 0.2)]
    assert classify.get_classes_from_scores(np.array([0.1, 0.7, 0.2]), score_threshold=0.15) == [
        classify.Class(1, 0.7), classify.Class(2, 0.2)]


def detect_cat(model_name, threshold):
    interpreter = edgetpu.make_interpreter(model(model_name))
    interpreter.allocate_tensors()
    with Image.open(shared_file("images", "cat.bmp")) as img:
        _, scale = common.set_resized_input(
            interpreter, img.size, lambda size: img.convert("RGB").resize(size, Image.BILINEAR))
        width, height = img.size
    interpreter.invoke()
    return interpreter, detect.get_objects(interpreter, threshold, scale), (width, height)


def test_detects_the_cat():
    labels = dataset.read_label_file(shared_file("labels", "coco_labels.txt"))
    _, objects, (width, height) = detect_cat(
        "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite", 0.5)
    assert objects, "no object above 0.5"
    best = max(objects, key=lambda o: o.score)
    assert labels[best.id] == "cat"
    assert 0.6 < best.score < 0.9
    assert 0 <= best.bbox.xmin < best.bbox.xmax <= width * 1.05
    assert 0 <= best.bbox.ymin < best.bbox.ymax <= height * 1.05
    assert best.bbox.area > 0.1 * width * height


def test_get_objects_stops_at_count():
    interpreter, objects, _ = detect_cat(
        "ssd_mobilenet_v1_coco_quant_postprocess_2018_06_29.tflite", -float("inf"))
    count = int(common.output_tensor(interpreter, 3)[0])
    rows = common.output_tensor(interpreter, 2).shape[1]
    assert len(objects) == min(count, rows)


def test_bbox():
    assert detect.BBox(1.9, 2.9, 3.9, 4.9).map(int) == detect.BBox(1, 2, 3, 4)
    a, b = detect.BBox(0, 0, 200, 200), detect.BBox(100, 100, 300, 300)
    assert detect.BBox.iou(a, b) == pytest.approx(0.14286, abs=1e-5)
    assert detect.BBox.iou(a, detect.BBox(300, 300, 400, 400)) == 0.0
    assert detect.BBox.union(a, b) == detect.BBox(0, 0, 300, 300)
    assert not detect.BBox(2, 2, 1, 1).valid
    assert a.scale(0.5, 2).translate(1, 1) == detect.BBox(1, 1, 101, 401)


def test_read_label_file_mixed_formats(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("0 background\n1:  cat\n\ndog house\n5 fish  \n", encoding="utf-8")
    assert dataset.read_label_file(str(path)) == {
        0: "background", 1: "cat", 2: "", 3: "dog house", 5: "fish"}


def test_run_inference_forms_agree():
    interpreter = edgetpu.make_interpreter(model("mobilenet_v1_0.25_128_quant_edgetpu.tflite"))
    interpreter.allocate_tensors()
    pixels = image("cat.bmp", (128, 128)).reshape(-1)
    results = []
    output = common.output_tensor(interpreter, 0)  # held across run_inference, as Coral's tests
    for data in (pixels.tobytes(), pixels,
                 (ctypes.c_void_p(pixels.ctypes.data), pixels.size)):
        edgetpu.run_inference(interpreter, data)
        results.append(output.tobytes())
    assert results[0] == results[1] == results[2]
    assert int(np.argmax(output)) == classify.get_classes(interpreter, 1)[0].id

    with pytest.raises(ValueError, match=f"input size=10, expected={pixels.size}."):
        edgetpu.run_inference(interpreter, b"0123456789")
    with pytest.raises(TypeError, match="input data type is not supported."):
        edgetpu.run_inference(interpreter, [1, 2, 3])


def test_make_interpreter_errors():
    with pytest.raises(ValueError) as error:
        edgetpu.make_interpreter(model("mobilenet_v2_1.0_224_quant_edgetpu.tflite"), ":2")
    assert str(error.value).startswith("Failed to load delegate from libedgetpu.so.1\n")
    assert "device ':2' does not exist" in str(error.value)
    with pytest.raises(ValueError, match="matches no device"):
        edgetpu.make_interpreter(model("mobilenet_v2_1.0_224_quant_edgetpu.tflite"), "pci")
    with pytest.raises(ValueError, match="Could not open '/no/such.tflite'."):
        edgetpu.make_interpreter("/no/such.tflite")


def test_shared_delegate_and_model_bytes():
    compiled = model("mobilenet_v1_0.25_128_quant_edgetpu.tflite")
    delegate = edgetpu.load_edgetpu_delegate({"device": ":1"})
    a = edgetpu.make_interpreter(compiled, delegate=delegate)
    b = edgetpu.make_interpreter(compiled, delegate=delegate)
    with open(model("mobilenet_v1_0.25_128_quant.tflite"), "rb") as f:
        c = edgetpu.make_interpreter(f.read(), delegate=delegate)  # CPU model, as bytes
    pixels = image("cat.bmp", (128, 128))
    for interpreter in (a, b, c):
        interpreter.allocate_tensors()
        common.set_input(interpreter, pixels)
        interpreter.invoke()
    assert np.array_equal(classify.get_scores(a), classify.get_scores(b))
    assert np.array_equal(classify.get_scores(a), classify.get_scores(c))
    assert classify.get_scores(a).max() > 0


def test_compiled_model_as_bytes_is_computed_from_tpufleet_sim_models(monkeypatch):
    compiled = model("mobilenet_v1_0.25_128_quant_edgetpu.tflite")
    with open(compiled, "rb") as f:
        content = f.read()
    gc.collect()  # no delegate of an earlier test keeps a stick open with its settings
    interpreter = edgetpu.make_interpreter(content)
    with pytest.raises(RuntimeError, match="not read from a file.*TPUFLEET_SIM_MODELS"):
        interpreter.allocate_tensors()
        interpreter.invoke()
    del interpreter
    gc.collect()
    monkeypatch.setenv("TPUFLEET_SIM_MODELS", os.path.dirname(compiled))
    pixels = image("cat.bmp", (128, 128))
    scores = []
    for source in (content, compiled):
        interpreter = edgetpu.make_interpreter(source)
        interpreter.allocate_tensors()
        common.set_input(interpreter, pixels)
        interpreter.invoke()
        scores.append(classify.get_scores(interpreter))
    assert np.array_equal(scores[0], scores[1])
    assert scores[0].max() > 0


def test_runtime_version_and_verbosity():
    assert "RuntimeVersion(" in edgetpu.get_runtime_version()
    assert edgetpu.set_verbosity(10) and edgetpu.set_verbosity(0)
    assert not edgetpu.set_verbosity(11)


def test_classify_image_example_prints_the_label():
    import subprocess
    import sys
    script = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python",
                          "classify_image.py")
    printed = subprocess.run(
        [sys.executable, script, "-m",
         model("mobilenet_v2_1.0_224_quant_edgetpu.tflite") + "@usb:1",
         "-l", shared_file("labels", "imagenet_labels.txt"),
         "-i", shared_file("images", "cat.bmp"), "-c", "2"],
        check=True, capture_output=True, text=True).stdout
    assert printed.splitlines()[-1].startswith("Egyptian cat: 0.")
