"""pycoral.learn.imprinting.engine: weight imprinting on the host, as libcoral's ImprintingEngine.

The model ends in L2_NORMALIZATION -> (QUANTIZE) -> CONV_2D 1x1 -> MUL -> RESHAPE -> SOFTMAX.
Each class's kernel row is the L2-normalized sum of the embeddings it was trained with, so the
convolution computes cosine similarities; serialize_model() rewrites the tail for the classes
held (tpufleet's ModelEditor does the flatbuffer surgery) and records each trainable class's
norm in the model description as "<class_id> <norm>" lines, which keep_classes=True reads back.
"""
import numpy as np

from tpufleet._native import Error, Model, ModelEditor, OperatorOptions

_TAIL = ["CONV_2D", "MUL", "RESHAPE", "SOFTMAX"]


def _dequantize(model, tensor):
    info = model.tensors[tensor]
    values = np.frombuffer(model.constant_data(tensor), dtype=model.numpy_dtypes[tensor])
    return info["scales"][0] * (values.astype(np.float64) - info["zero_points"][0])


def _norms_in(description):
    """The "<class_id> <norm>" lines of a description, as {class_id: norm}."""
    norms = {}
    for line in description.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].isdigit():
            try:
                norms[int(fields[0])] = float(fields[1])
            except ValueError:
                continue
    return norms


class _Tail:
    """The tensors of the imprinting tail of a model, validated as libcoral validates them."""

    def __init__(self, model):
        ops = model.operators
        tensors = model.tensors
        l2_ops = [op["index"] for op in ops if op["name"] == "L2_NORMALIZATION"]
        if not l2_ops:
            raise ValueError("Unsupported model architecture. Input model must have an L2Norm "
                             "layer.")
        if len(ops) < 4 or [op["name"] for op in ops[-4:]] != _TAIL:
            raise ValueError("The last 4 operators must be Conv2d, Mul, Reshape, Softmax")
        conv, mul, reshape, softmax = ops[-4:]
        self.l2_op = l2_ops[-1]
        between = [op["name"] for op in ops[self.l2_op + 1:conv["index"]]]
        if between not in ([], ["QUANTIZE"]):
            raise ValueError("Unsupported model architecture. L2Norm operator must be followed "
                             "with the last Conv2d operator.")
        self.embedding = ops[self.l2_op]["outputs"][0]
        embedding_shape = tensors[self.embedding]["shape"]
        if len(embedding_shape) != 4 or embedding_shape[:3] != [1, 1, 1]:
            raise ValueError("Embedding extractor's output tensor should be [1, 1, 1, x]")
        self.kernel, self.bias = conv["inputs"][1], conv["inputs"][2]
        bias_quantization = tensors[self.bias]["zero_points"]
        self.bias_zero_point = int(bias_quantization[0]) if bias_quantization else 0
        if not 0 <= self.bias_zero_point <= 255:
            raise ValueError("bias_zero_point is out of [0, 255] range!")
        self.conv_output = conv["outputs"][0]
        self.mul_output = mul["outputs"][0]
        self.reshape_op = reshape["index"]
        self.reshape_shape = reshape["inputs"][1] if len(reshape["inputs"]) > 1 else -1
        self.logits = reshape["outputs"][0]
        if len(tensors[self.logits]["shape"]) != 2 or tensors[self.logits]["shape"][0] != 1:
            raise ValueError("Logit output tensor should be [1, x]")
        self.softmax_output = softmax["outputs"][0]
        if self.softmax_output not in model.output_indices:
            raise ValueError("Graph must have output from Softmax")
        constants = [i for i in mul["inputs"] if tensors[i]["is_constant"]]
        if not constants:
            raise ValueError("Unsupported model architecture. The Mul operator must multiply "
                             "by a constant scale.")
        self.mul_scale = float(_dequantize(model, constants[0])[0])


class ImprintingEngine:
    """Trains the last layer of an imprinting model on embeddings, on the host."""

    def __init__(self, model_path, keep_classes=False):
        try:
            self._model = Model.from_file(model_path)
        except Error as error:
            raise ValueError(f"Failed to open file: {model_path}") from error
        self._tail = _Tail(self._model)
        kernel = self._model.tensors[self._tail.kernel]
        self._kernel_scale = kernel["scales"][0]
        self._kernel_zero_point = kernel["zero_points"][0]
        self._embedding_dim = self._model.tensors[self._tail.embedding]["shape"][-1]
        # Per class: the summed embeddings of a trainable class, or None for a frozen one.
        self._sums = []
        self._frozen_rows = {}
        if keep_classes:
            rows = np.frombuffer(self._model.constant_data(self._tail.kernel), dtype=np.uint8)
            rows = rows.reshape(kernel["shape"][0], -1)
            norms = _norms_in(self._model.description)
            for class_id, row in enumerate(rows):
                if class_id in norms:
                    weights = self._kernel_scale * (row.astype(np.float64) -
                                                    self._kernel_zero_point)
                    self._sums.append(weights * norms[class_id])
                else:
                    self._sums.append(None)
                    self._frozen_rows[class_id] = row.copy()

    @property
    def embedding_dim(self):
        """The length of the embeddings the extractor produces (the L2Norm output)."""
        return self._embedding_dim

    @property
    def num_classes(self):
        """The classes currently held (base classes kept and classes trained)."""
        return len(self._sums)

    def serialize_extractor_model(self):
        """The model cut at the L2Norm output, which it outputs as uint8 [1, 1, 1, D]."""
        editor = ModelEditor(self._model)
        editor.keep_operators(self._tail.l2_op + 1)
        editor.set_outputs([self._tail.embedding])
        return editor.finish("embedding extractor").bytes

    def train(self, embedding, class_id):
        """Adds `embedding` (D floats) to class `class_id`: a new class when it equals
        num_classes, else a class trained with imprinting."""
        embedding = np.asarray(embedding, dtype=np.float32)
        if embedding.shape != (self._embedding_dim,):
            raise RuntimeError("Invalid weights array shape.")
        if class_id < 0:
            raise RuntimeError(f"The class index {class_id} is negative: give 0 to "
                               f"{self.num_classes}.")
        if class_id > self.num_classes:
            raise RuntimeError("The class index of a new category is too large!")
        if class_id == self.num_classes:
            self._sums.append(embedding.astype(np.float64))
        elif self._sums[class_id] is None:
            raise RuntimeError("Cannot change the base model classes not trained with imprinting "
                               "method!")
        else:
            self._sums[class_id] = self._sums[class_id] + embedding

    def _kernel_rows(self):
        """The uint8 kernel rows and the "<class_id> <norm>" description lines."""
        rows, lines = [], []
        for class_id, total in enumerate(self._sums):
            if total is None:
                rows.append(self._frozen_rows[class_id])
                continue
            norm = float(np.linalg.norm(total))
            unit = total / norm if norm > 0 else total
            quantized = np.round(unit / self._kernel_scale) + self._kernel_zero_point
            rows.append(np.clip(quantized, 0, 255).astype(np.uint8))
            lines.append(f"{class_id} {norm:f}\n")
        return np.stack(rows), "".join(lines)

    def serialize_model(self):
        """The model with one kernel row per class held; its output is uint8 [1, num_classes]."""
        if self.num_classes == 0:
            raise RuntimeError("Model is not trained.")
        tail, classes = self._tail, self.num_classes
        rows, description = self._kernel_rows()
        editor = ModelEditor(self._model)
        tensors = self._model.tensors
        editor.set_shape(tail.kernel, [classes] + tensors[tail.kernel]["shape"][1:])
        editor.set_constant_data(tail.kernel, rows.tobytes())
        bias_dtype = self._model.numpy_dtypes[tail.bias]
        editor.set_shape(tail.bias, [classes])
        editor.set_constant_data(tail.bias,
                                 np.full(classes, tail.bias_zero_point, bias_dtype).tobytes())
        editor.set_shape(tail.conv_output, tensors[tail.conv_output]["shape"][:-1] + [classes])
        editor.set_quantization(tail.conv_output, [1.0 / 128], [128])
        scaled = ([tail.mul_scale / 128], [128])
        editor.set_shape(tail.mul_output, tensors[tail.mul_output]["shape"][:-1] + [classes])
        editor.set_quantization(tail.mul_output, *scaled)
        editor.set_shape(tail.logits, [1, classes])
        editor.set_quantization(tail.logits, *scaled)
        editor.set_operator_options(tail.reshape_op, OperatorOptions(new_shape=[1, classes]))
        if tail.reshape_shape >= 0 and tensors[tail.reshape_shape]["is_constant"]:
            editor.set_constant_data(tail.reshape_shape,
                                     np.array([1, classes], dtype=np.int32).tobytes())
        editor.set_shape(tail.softmax_output, [1, classes])
        editor.set_outputs([tail.softmax_output])
        editor.set_description(description)
        return editor.finish("imprinted model").bytes
