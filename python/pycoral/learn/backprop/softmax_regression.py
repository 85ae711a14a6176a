"""pycoral.learn.backprop.softmax_regression: a softmax-regression classifier trained on the host
with numpy (plain SGD over mini-batches), for the embeddings an extractor model produces.

As libcoral's SoftmaxRegressionModel: weights start as weight_scale * N(0, 1), biases at 0; each
iteration samples batch_size rows with replacement; `reg` only adds 0.5 * reg * sum(W * W) to
the reported loss (it does not change the gradient); get_accuracy is a fraction in [0, 1].
serialize_model appends the trained layer to an embedding extractor model with tpufleet's
ModelEditor.
"""
import sys

import numpy as np

from tpufleet._native import Error, Model, ModelEditor, OperatorOptions


def _float_matrix(array):
    """`array` as a 2-D float32 array, with libcoral's errors for anything else."""
    if not isinstance(array, np.ndarray) or array.dtype != np.float32:
        raise RuntimeError("Incompatible format: expected a float array!")
    if array.ndim != 2:
        raise RuntimeError("Incompatible buffer dimension!")
    return array


def _labels(labels, rows, what):
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if labels.size != rows:
        raise ValueError(f"{what} has {labels.size} labels for {rows} rows of data: give one "
                         "label per row")
    return labels


class SoftmaxRegression:
    """A fully connected layer and a softmax over `feature_dim` inputs and `num_classes`
    classes."""

    def __init__(self, feature_dim=None, num_classes=None, weight_scale=0.01, reg=0.0):
        if not isinstance(feature_dim, int) or not isinstance(num_classes, int):
            raise TypeError("SoftmaxRegression needs feature_dim and num_classes as ints, got "
                            f"feature_dim={feature_dim!r}, num_classes={num_classes!r}")
        if feature_dim < 1 or num_classes < 1:
            raise ValueError(f"feature_dim ({feature_dim}) and num_classes ({num_classes}) must "
                             "be at least 1")
        self._feature_dim = feature_dim
        self._num_classes = num_classes
        self._reg = float(reg)
        rng = np.random.default_rng()
        self._weights = (float(weight_scale) *
                         rng.standard_normal((feature_dim, num_classes))).astype(np.float32)
        self._biases = np.zeros(num_classes, dtype=np.float32)
        self._rng = rng
        self._logit_min = 0.0
        self._logit_max = 0.0

    def _check_features(self, data, what):
        data = _float_matrix(data)
        if data.shape[1] != self._feature_dim:
            raise ValueError(f"{what} has {data.shape[1]} features per row; the model takes "
                             f"{self._feature_dim}")
        return data

    def _logits(self, data):
        return data @ self._weights + self._biases

    def _loss_and_gradients(self, data, labels):
        logits = self._logits(data)
        self._logit_min = min(self._logit_min, float(logits.min()))
        self._logit_max = max(self._logit_max, float(logits.max()))
        shifted = logits - logits.max(axis=1, keepdims=True)
        probabilities = np.exp(shifted)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = float(-np.log(np.maximum(probabilities[rows, labels], 1e-30)).mean())
        loss += 0.5 * self._reg * float(np.sum(self._weights * self._weights))
        probabilities[rows, labels] -= 1.0
        probabilities /= len(labels)
        return loss, data.T @ probabilities, probabilities.sum(axis=0)

    def train_with_sgd(self, data, num_iter, learning_rate, batch_size=100, print_every=100):
        """Trains on data['data_train'] (float32 N x D) and data['labels_train'] for `num_iter`
        iterations of SGD; every `print_every` iterations (0: never) logs the loss and the
        training and validation ('data_val', 'labels_val') accuracies to stderr."""
        train = self._check_features(data["data_train"], "data_train")
        validation = self._check_features(data["data_val"], "data_val")
        train_labels = _labels(data["labels_train"], len(train), "labels_train")
        validation_labels = _labels(data["labels_val"], len(validation), "labels_val")
        if len(train) == 0:
            raise ValueError("data_train has no rows to train on")
        if train_labels.min() < 0 or train_labels.max() >= self._num_classes:
            raise ValueError(f"labels_train must lie in [0, {self._num_classes}); they range "
                             f"over [{train_labels.min()}, {train_labels.max()}]")
        for iteration in range(int(num_iter)):
            batch = self._rng.integers(0, len(train), size=int(batch_size))
            loss, weight_gradient, bias_gradient = self._loss_and_gradients(
                train[batch], train_labels[batch])
            self._weights -= np.float32(learning_rate) * weight_gradient.astype(np.float32)
            self._biases -= np.float32(learning_rate) * bias_gradient.astype(np.float32)
            if print_every and iteration % print_every == 0:
                print(f"Loss: {loss}, Train Acc: {self._accuracy(train, train_labels)}, "
                      f"Valid Acc: {self._accuracy(validation, validation_labels)}",
                      file=sys.stderr)

    def _accuracy(self, data, labels):
        if len(labels) == 0:
            return 0.0
        return float(np.mean(np.argmax(self._logits(data), axis=1) == labels))

    def get_accuracy(self, mat_x, labels):
        """The fraction (0 to 1) of rows of `mat_x` whose most likely class is their label."""
        mat_x = self._check_features(mat_x, "mat_x")
        return self._accuracy(mat_x, _labels(labels, len(mat_x), "labels"))

    def serialize_model(self, in_model_path):
        """The embedding extractor at `in_model_path` with this classifier appended: (RESHAPE to
        [1, D] when its output is 4-D), FULLY_CONNECTED and SOFTMAX, uint8 quantized as libcoral
        quantizes them. Returns the .tflite bytes."""
        try:
            extractor = Model.from_file(in_model_path)
        except Error as error:
            raise ValueError(f"Failed to open file: {in_model_path}") from error
        if extractor.subgraph_count != 1 or len(extractor.output_indices) != 1:
            raise ValueError(f"{in_model_path} has {extractor.subgraph_count} subgraphs and "
                             f"{len(extractor.output_indices)} outputs: an embedding extractor "
                             "has one of each")
        embedding = extractor.tensors[extractor.output_indices[0]]
        shape = embedding["shape"]
        if (embedding["type"] != "uint8" or not embedding["scales"] or
                shape[-1] != self._feature_dim or int(np.prod(shape)) != self._feature_dim):
            raise ValueError(f"{in_model_path} outputs a {embedding['type']} tensor of shape "
                             f"{shape}; the classifier takes a quantized uint8 embedding of "
                             f"{self._feature_dim} values ([1, {self._feature_dim}] or "
                             f"[1, 1, 1, {self._feature_dim}])")
        editor = ModelEditor(extractor)
        features = embedding["index"]
        input_quantization = (embedding["scales"], embedding["zero_points"])
        if len(shape) != 2:
            flat = editor.add_tensor("classifier/flatten", "uint8", [1, self._feature_dim],
                                     *input_quantization)
            editor.add_operator("RESHAPE", [features], [flat],
                                OperatorOptions(new_shape=[1, self._feature_dim]))
            features = flat
        weight_scale, weight_zero_point = _uint8_range(self._weights.min(), self._weights.max())
        weights = _quantize(self._weights.T, weight_scale, weight_zero_point)
        weights_t = editor.add_constant("classifier/weights", "uint8",
                                        [self._num_classes, self._feature_dim],
                                        weights.tobytes(), [weight_scale], [weight_zero_point])
        bias_scale = embedding["scales"][0] * weight_scale
        biases = np.round(self._biases / bias_scale) if bias_scale > 0 else np.zeros_like(
            self._biases)
        biases_t = editor.add_constant("classifier/biases", "int32", [self._num_classes],
                                       biases.astype(np.int32).tobytes(), [bias_scale], [0])
        logit_scale, logit_zero_point = _uint8_range(self._logit_min, self._logit_max)
        logits = editor.add_tensor("classifier/logits", "uint8", [1, self._num_classes],
                                   [logit_scale], [logit_zero_point])
        editor.add_operator("FULLY_CONNECTED", [features, weights_t, biases_t], [logits])
        probabilities = editor.add_tensor("classifier/probabilities", "uint8",
                                          [1, self._num_classes], [1.0 / 256], [0])
        editor.add_operator("SOFTMAX", [logits], [probabilities])
        editor.set_outputs([probabilities])
        return editor.finish("classifier").bytes


def _uint8_range(low, high):
    """libcoral's uint8 quantization (scale, zero point) of the range [min(0, low),
    max(0, high)]; scale 0 and zero point 0 for an empty range."""
    low, high = min(0.0, float(low)), max(0.0, float(high))
    scale = (high - low) / 255.0
    if scale == 0:
        return 0.0, 0
    return scale, int(np.clip(np.round(-low / scale), 0, 255))


def _quantize(values, scale, zero_point):
    if scale == 0:
        return np.full(values.shape, zero_point, dtype=np.uint8)
    return np.clip(np.round(values / scale) + zero_point, 0, 255).astype(np.uint8)
