"""tpufleet._native.ModelEditor: edits of a real model, the verified result, and the errors for
bad indices, sizes and names."""
import numpy as np
import pytest

from conftest import model
from tpufleet import Error, Model
from tpufleet._native import ModelEditor, OperatorOptions


def test_cut_at_an_intermediate_tensor_and_append_a_head():
    backbone = Model.from_file(model("mobilenet_v1_0.25_128_quant.tflite"))
    editor = ModelEditor(backbone)
    assert editor.operator_count == len(backbone.operators)
    editor.keep_operators(28)
    pool = backbone.operators[27]["outputs"][0]
    out = editor.add_tensor("flat", "uint8", [1, 256], [0.0235], [0])
    editor.add_operator("RESHAPE", [pool], [out], OperatorOptions(new_shape=[1, 256]))
    editor.set_outputs([out])
    editor.set_description("cut")
    edited = editor.finish("cut model")
    assert edited.description == "cut" and edited.name == "cut model"
    assert [op["name"] for op in edited.operators][-2:] == ["AVERAGE_POOL_2D", "RESHAPE"]
    assert edited.tensors[edited.output_indices[0]]["shape"] == [1, 256]
    assert len(backbone.operators) == 31, "the model edited from is not changed"
    again = Model.from_bytes(edited.bytes)
    assert again.operators[-1]["name"] == "RESHAPE"


def test_constant_data_is_replaced_in_a_buffer_of_its_own():
    backbone = Model.from_file(model("mobilenet_v1_0.25_128_quant.tflite"))
    bias = backbone.operators[28]["inputs"][2]
    editor = ModelEditor(backbone)
    editor.set_constant_data(bias, np.arange(1001, dtype=np.int32).tobytes())
    edited = editor.finish()
    assert np.array_equal(np.frombuffer(edited.constant_data(bias), np.int32), np.arange(1001))
    assert edited.constant_data(bias - 1) == backbone.constant_data(bias - 1)


@pytest.mark.parametrize("edit, message", [
    (lambda e: e.set_shape(10_000, [1]), "tensor 10000 is not a tensor of the model"),
    (lambda e: e.set_shape(0, [1, -2]), "negative dimension"),
    (lambda e: e.set_constant_data(2, b"\0" * 3), "the data has 3 bytes"),
    (lambda e: e.add_operator("NOT_AN_OP", [0], [1]), "'NOT_AN_OP' is not a TFLite builtin"),
    (lambda e: e.add_operator("SOFTMAX", [0], [99_999]), "output 99999 is not a tensor"),
    (lambda e: e.keep_operators(40), "cannot keep 40 operators of a model that has 31"),
    (lambda e: e.set_operator_options(31, OperatorOptions()), "operator 31 is not in the model"),
    (lambda e: e.set_outputs([-1]), "graph output -1 is not a tensor"),
    (lambda e: e.set_quantization(0, [1.0], []), "give one zero point per scale"),
    (lambda e: e.add_tensor("x", "uint9", [1]), "'uint9' is not a tensor type"),
])
def test_bad_edits_say_what_is_wrong(edit, message):
    editor = ModelEditor(Model.from_file(model("mobilenet_v1_0.25_128_quant.tflite")))
    with pytest.raises(Error, match=message) as error:
        edit(editor)
    assert error.value.code == "INVALID_ARGUMENT"


def test_an_edit_that_breaks_the_model_fails_verification():
    editor = ModelEditor(Model.from_file(model("mobilenet_v1_0.25_128_quant.tflite")))
    editor.set_shape(2, [5])  # the bias keeps its 1001 values
    with pytest.raises(Error) as error:
        editor.finish("broken")
    assert error.value.code == "DATA_LOSS" and "broken" in str(error.value)
