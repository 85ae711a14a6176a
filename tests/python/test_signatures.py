"""tflite_runtime signatures over tpufleet: the SignatureDefs of a real TF2 model, read from the
file, and the runner by name; models without SignatureDefs; malformed signature tables."""
import numpy as np
import pytest

from conftest import image, model
from tflite_runtime.interpreter import Interpreter, SignatureRunner
from tflite_runtime.signatures import read_signatures

LSTM = "keras_lstm_mnist_ptq.tflite"


def test_reads_the_signature_of_a_keras_model():
    interpreter = Interpreter(model_path=model(LSTM))
    full = interpreter._get_full_signature_list()
    assert list(full) == ["serving_default"]
    signature = full["serving_default"]
    inputs = {d["index"]: d["name"] for d in interpreter.get_input_details()}
    outputs = {d["index"]: d["name"] for d in interpreter.get_output_details()}
    assert len(signature["inputs"]) == len(inputs) and len(signature["outputs"]) == len(outputs)
    assert set(signature["inputs"].values()) == set(inputs)
    assert set(signature["outputs"].values()) == set(outputs)
    assert interpreter.get_signature_list() == {
        "serving_default": {"inputs": sorted(signature["inputs"]),
                            "outputs": sorted(signature["outputs"])}}
    with open(model(LSTM), "rb") as f:  # the same from the bytes
        assert Interpreter(model_content=f.read())._get_full_signature_list() == full


def test_the_keras_lstm_runs_through_its_own_signature():
    runner = Interpreter(model_path=model(LSTM)).get_signature_runner("serving_default")
    (name, details), = runner.get_input_details().items()
    digits = np.random.default_rng(7).integers(0, 256, size=details["shape"], dtype=np.uint8)
    (output_name, scores), = runner(**{name: digits}).items()
    direct = Interpreter(model_path=model(LSTM))
    direct.allocate_tensors()
    direct.set_tensor(direct.get_input_details()[0]["index"], digits)
    direct.invoke()
    assert list(runner.get_output_details()) == [output_name]
    assert np.array_equal(scores, direct.get_tensor(direct.get_output_details()[0]["index"]))
    assert scores.shape == (1, 10) and scores.dtype == np.uint8


def test_signature_runner_runs_by_name():
    # A runner over a signature the model does not declare: a classifier's own input and output
    # under names of its choosing.
    interpreter = Interpreter(model_path=model("mobilenet_v1_0.25_128_quant.tflite"))
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    runner = SignatureRunner(interpreter, "classify", {
        "inputs": {"pixels": input_index}, "outputs": {"scores": output_index},
        "subgraph_index": 0})
    assert runner.get_input_details()["pixels"]["shape"].tolist() == [1, 128, 128, 3]
    pixels = image("cat.bmp", (128, 128))[np.newaxis]
    result = runner(pixels=pixels)  # allocates the interpreter as TensorFlow Lite's does
    direct = Interpreter(model_path=model("mobilenet_v1_0.25_128_quant.tflite"))
    direct.allocate_tensors()
    direct.set_tensor(input_index, pixels)
    direct.invoke()
    assert list(result) == ["scores"]
    assert np.array_equal(result["scores"], direct.get_tensor(output_index))
    with pytest.raises(ValueError, match="runs subgraph 1"):
        SignatureRunner(interpreter, "other", {"inputs": {}, "outputs": {}, "subgraph_index": 1})


def test_signature_runner_errors():
    interpreter = Interpreter(model_path=model(LSTM))
    with pytest.raises(ValueError, match="^Invalid signature_key provided.$"):
        interpreter.get_signature_runner("missing")
    runner = interpreter.get_signature_runner(signature_key="serving_default")
    with pytest.raises(ValueError, match="expected 1 vs provided 0"):
        runner()
    with pytest.raises(ValueError, match=r"Invalid Input name \(nope\)"):
        runner(nope=np.zeros(1))
    plain = Interpreter(model_path=model("mobilenet_v1_0.25_128_quant.tflite"))
    assert plain.get_signature_list() == {} and plain._get_full_signature_list() == {}
    with pytest.raises(ValueError, match="model has 0 Signatures"):
        plain.get_signature_runner()


def test_malformed_signature_tables_are_a_value_error():
    with open(model(LSTM), "rb") as f:
        data = bytearray(f.read())
    assert read_signatures(bytes(data))
    root = int.from_bytes(data[0:4], "little")
    vtable = root - int.from_bytes(data[root:root + 4], "little", signed=True)
    field = int.from_bytes(data[vtable + 4 + 2 * 7:vtable + 6 + 2 * 7], "little")
    data[root + field:root + field + 4] = (len(data) + 100).to_bytes(4, "little")
    with pytest.raises(ValueError, match="signature_defs are malformed"):
        read_signatures(bytes(data))
