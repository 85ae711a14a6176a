"""Models for the pycoral.learn tests, written with tpufleet's ModelEditor over the real
mobilenet_v1_0.25_128 backbone cut at its global average pool ([1, 1, 1, 256]): that embedding
extractor, and imprinting models with the head of PyCoral's imprinting test model,
L2_NORMALIZATION -> CONV_2D 1x1 -> MUL -> RESHAPE -> SOFTMAX, uint8 quantized, with
`base_classes` frozen random classes (the keyword arguments break one rule each, for the
validation errors)."""
import numpy as np

from tpufleet._native import Model, ModelEditor, OperatorOptions

BACKBONE = "mobilenet_v1_0.25_128_quant.tflite"
KERNEL_QUANTIZATION = ([1.0 / 127], [128])
MUL_SCALE = 10.0


def _backbone(backbone_path):
    """An editor holding the backbone cut at its last AVERAGE_POOL_2D, and that pool's output."""
    backbone = Model.from_file(backbone_path)
    pool = max(op["index"] for op in backbone.operators if op["name"] == "AVERAGE_POOL_2D")
    editor = ModelEditor(backbone)
    editor.keep_operators(pool + 1)
    return editor, backbone.operators[pool]["outputs"][0], backbone


def extractor_model(backbone_path):
    """The bytes of the backbone cut at its global average pool, which it outputs."""
    editor, features, _ = _backbone(backbone_path)
    editor.set_outputs([features])
    return editor.finish("embedding extractor").bytes


def imprinting_model(backbone_path, base_classes=3, *, l2norm=True, mul=True,
                     op_between=None, embedding_shape=None, bias_zero_point=0,
                     logit_shape=None, softmax_output=True, seed=5):
    """The bytes of an imprinting model over the backbone at `backbone_path`."""
    editor, features, backbone = _backbone(backbone_path)
    dim = backbone.tensors[features]["shape"][-1]
    x = features
    if l2norm:
        x_next = editor.add_tensor("l2norm", "uint8", embedding_shape or [1, 1, 1, dim],
                                   [1.0 / 128], [128])
        editor.add_operator("L2_NORMALIZATION", [x], [x_next])
        x = x_next
    if op_between:
        x_next = editor.add_tensor("between", "uint8", [1, 1, 1, dim], [1.0 / 128], [128])
        editor.add_operator(op_between, [x], [x_next])
        x = x_next
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((base_classes, dim))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    scale, zero_point = KERNEL_QUANTIZATION
    kernel = np.clip(np.round(rows / scale[0]) + zero_point[0], 0, 255).astype(np.uint8)
    kernel_t = editor.add_constant("kernel", "uint8", [base_classes, 1, 1, dim],
                                   kernel.tobytes(), scale, zero_point)
    bias = editor.add_constant("bias", "int32", [base_classes],
                               np.zeros(base_classes, np.int32).tobytes(),
                               [scale[0] / 128], [bias_zero_point])
    conv = editor.add_tensor("conv", "uint8", [1, 1, 1, base_classes], [1.0 / 128], [128])
    editor.add_operator("CONV_2D", [x, kernel_t, bias], [conv])
    x = conv
    if mul:
        factor = editor.add_constant("scale", "uint8", [1], bytes([100]), [MUL_SCALE / 100], [0])
        x_next = editor.add_tensor("mul", "uint8", [1, 1, 1, base_classes],
                                   [MUL_SCALE / 128], [128])
        editor.add_operator("MUL", [x, factor], [x_next])
        x = x_next
    new_shape = logit_shape or [1, base_classes]
    shape_t = editor.add_constant("logits/shape", "int32", [len(new_shape)],
                                  np.array(new_shape, np.int32).tobytes())
    logits = editor.add_tensor("logits", "uint8", new_shape, [MUL_SCALE / 128], [128])
    editor.add_operator("RESHAPE", [x, shape_t], [logits], OperatorOptions(new_shape=new_shape))
    probabilities = editor.add_tensor("probabilities", "uint8", new_shape, [1.0 / 256], [0])
    editor.add_operator("SOFTMAX", [logits], [probabilities])
    editor.set_outputs([probabilities] if softmax_output else [logits])
    return editor.finish("imprinting test model").bytes
