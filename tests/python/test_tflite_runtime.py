"""tflite_runtime.interpreter over tpufleet: details, tensors, views, errors, delegates."""
import threading

import numpy as np
import pytest

from conftest import image, model
from tflite_runtime.interpreter import Interpreter, load_delegate

MOBILENET_V2 = "mobilenet_v2_1.0_224_quant.tflite"


def allocated(name, **kwargs):
    interpreter = Interpreter(model_path=model(name), **kwargs)
    interpreter.allocate_tensors()
    return interpreter


def test_details_have_tflite_keys_and_types():
    interpreter = allocated(MOBILENET_V2)
    details = interpreter.get_input_details()
    assert len(details) == 1
    d = details[0]
    assert set(d) == {"name", "index", "shape", "shape_signature", "dtype", "quantization",
                      "quantization_parameters", "sparsity_parameters"}
    assert d["dtype"] is np.uint8  # the scalar type class, not a np.dtype
    assert d["shape"].dtype == np.int32 and d["shape"].tolist() == [1, 224, 224, 3]
    _, height, width, _ = d["shape"]
    assert (width, height) == (224, 224)
    scale, zero_point = d["quantization"]
    assert isinstance(scale, float) and isinstance(zero_point, int)
    assert (scale, zero_point) == (0.0078125, 128)
    q = d["quantization_parameters"]
    assert q["scales"].dtype == np.float32 and q["zero_points"].dtype == np.int32
    assert q["zero_points"].tolist() == [128]
    assert d["sparsity_parameters"] == {}
    output = interpreter.get_output_details()[0]
    assert output["shape"].tolist() == [1, 1001]


def test_classifies_cat_on_cpu():
    interpreter = allocated(MOBILENET_V2)
    index = interpreter.get_input_details()[0]["index"]
    interpreter.set_tensor(index, image("cat.bmp", (224, 224))[np.newaxis])
    interpreter.invoke()
    scores = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    assert scores.dtype == np.uint8 and scores.shape == (1, 1001)
    assert int(scores.argmax()) == 286  # Egyptian cat


def test_tensor_gives_live_views_and_invoke_refuses_while_one_is_held():
    interpreter = allocated(MOBILENET_V2)
    index = interpreter.get_input_details()[0]["index"]
    input_view = interpreter.tensor(index)
    input_view()[0, :, :] = image("cat.bmp", (224, 224))
    assert np.array_equal(interpreter.get_tensor(index)[0], image("cat.bmp", (224, 224)))

    held = input_view()[0]  # a slice of a view
    with pytest.raises(RuntimeError, match="There is at least 1 reference to internal data"):
        interpreter.invoke()
    with pytest.raises(RuntimeError, match="reference to internal data"):
        interpreter.allocate_tensors()
    del held
    interpreter.invoke()  # no view left: it runs

    output = interpreter.tensor(interpreter.get_output_details()[0]["index"])
    assert int(output().argmax()) == 286


def test_set_tensor_checks_type_and_shape():
    interpreter = allocated(MOBILENET_V2)
    index = interpreter.get_input_details()[0]["index"]
    with pytest.raises(ValueError, match="Cannot set tensor: Got value of type FLOAT32 but "
                                         "expected type UINT8 for input 0, name: input"):
        interpreter.set_tensor(index, np.zeros((1, 224, 224, 3), np.float32))
    with pytest.raises(ValueError, match="Cannot set tensor: Dimension mismatch. Got 3 but "
                                         "expected 4 for input 0."):
        interpreter.set_tensor(index, np.zeros((224, 224, 3), np.uint8))
    with pytest.raises(ValueError, match="Got 100 but expected 224 for dimension 1 of input 0"):
        interpreter.set_tensor(index, np.zeros((1, 100, 224, 3), np.uint8))


def test_constructor_errors():
    with pytest.raises(ValueError, match="`model_path` or `model_content` must be specified."):
        Interpreter()
    with pytest.raises(ValueError, match="Can't both provide `model_path` and `model_content`"):
        Interpreter(model_path="a", model_content=b"b")
    with pytest.raises(ValueError) as error:
        Interpreter(model_path="/no/such/model.tflite")
    assert str(error.value) == "Could not open '/no/such/model.tflite'."
    with pytest.raises(ValueError, match="TFL3|flatbuffer|identifier"):
        Interpreter(model_content=b"not a model at all, certainly not a flatbuffer")
    with pytest.raises(ValueError, match="num_threads should >= -1"):
        Interpreter(model_path=model(MOBILENET_V2), num_threads=-2)


def test_model_content_runs_like_model_path():
    with open(model(MOBILENET_V2), "rb") as f:
        content = f.read()
    a, b = allocated(MOBILENET_V2), Interpreter(model_content=content)
    b.allocate_tensors()
    pixels = image("cat.bmp", (224, 224))[np.newaxis]
    for interpreter in (a, b):
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels)
        interpreter.invoke()
    index = a.get_output_details()[0]["index"]
    assert a.get_tensor(index).tobytes() == b.get_tensor(index).tobytes()


def test_not_allocated():
    interpreter = Interpreter(model_path=model(MOBILENET_V2))
    with pytest.raises(RuntimeError, match="Invoke called on model that is not ready."):
        interpreter.invoke()
    with pytest.raises(ValueError, match="Tensor data is null. Run allocate_tensors\\(\\) first"):
        interpreter.get_tensor(interpreter.get_input_details()[0]["index"])


def test_compiled_model_without_delegate_has_an_unresolved_custom_op():
    interpreter = Interpreter(model_path=model("mobilenet_v2_1.0_224_quant_edgetpu.tflite"))
    with pytest.raises(RuntimeError, match="Encountered unresolved custom op: edgetpu-custom-op"):
        interpreter.allocate_tensors()


def test_intermediate_tensors_are_refused_with_a_reason():
    interpreter = allocated(MOBILENET_V2)
    inputs = {d["index"] for d in interpreter.get_input_details()}
    outputs = {d["index"] for d in interpreter.get_output_details()}
    intermediate = next(t["index"] for t in interpreter.get_tensor_details()
                        if t["index"] not in inputs | outputs)
    with pytest.raises(ValueError, match="neither an input nor an output"):
        interpreter.get_tensor(intermediate)
    with pytest.raises(ValueError, match="Invalid tensor index 100000"):
        interpreter.tensor(100000)


def test_ops_details_and_signatures():
    interpreter = allocated(MOBILENET_V2)
    ops = interpreter._get_ops_details()
    assert ops[0]["op_name"] == "CONV_2D" and ops[0]["index"] == 0
    assert ops[0]["inputs"].dtype == np.int32
    assert interpreter._get_full_signature_list() == {}


def test_delegate_errors(simulated):
    with pytest.raises(ValueError) as error:
        load_delegate("libedgetpu.so.1", {"device": ":7"})
    message = str(error.value)
    assert message.startswith("Failed to load delegate from libedgetpu.so.1\n")
    assert "device ':7' does not exist" in message and ":1 usb sim:1" in message
    with pytest.raises(ValueError, match="not an Edge TPU device string"):
        load_delegate("libedgetpu.so.1", {"device": "gpu:0"})
    with pytest.raises(OSError):
        load_delegate("/no/such/libdelegate.so")


def test_cpu_model_runs_with_an_edgetpu_delegate_attached(simulated):
    delegate = load_delegate("libedgetpu.so.1")
    with_delegate = allocated(MOBILENET_V2, experimental_delegates=[delegate])
    plain = allocated(MOBILENET_V2)
    pixels = image("cat.bmp", (224, 224))[np.newaxis]
    for interpreter in (with_delegate, plain):
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels)
        interpreter.invoke()
    index = plain.get_output_details()[0]["index"]
    assert with_delegate.get_tensor(index).tobytes() == plain.get_tensor(index).tobytes()


def test_two_threads_invoke_their_own_interpreters():
    pixels = image("cat.bmp", (224, 224))[np.newaxis]
    results, errors = {}, []

    def work(name):
        try:
            interpreter = allocated(MOBILENET_V2)
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], pixels)
            for _ in range(3):
                interpreter.invoke()
            results[name] = interpreter.get_tensor(
                interpreter.get_output_details()[0]["index"]).tobytes()
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results["a"] == results["b"]
