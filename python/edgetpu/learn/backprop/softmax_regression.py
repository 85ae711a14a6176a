"""edgetpu.learn.backprop.softmax_regression.SoftmaxRegression: the Edge TPU API's classifier
trained on embeddings, over pycoral's (pycoral.learn.backprop.softmax_regression) with the old
method names."""
import numpy as np

from pycoral.learn.backprop import softmax_regression


class SoftmaxRegression(softmax_regression.SoftmaxRegression):
    """pycoral's SoftmaxRegression, plus run_inference and save_as_tflite_model."""

    def run_inference(self, data):
        """The most likely class of each row of `data` (float32 N x feature_dim)."""
        data = self._check_features(data, "data")
        return np.argmax(self._logits(data), axis=1)

    def save_as_tflite_model(self, in_model_path, out_model_path):
        """Appends the trained layer to the embedding extractor at `in_model_path` and writes
        the model to `out_model_path`."""
        try:
            content = self.serialize_model(in_model_path)
        except ValueError as error:
            raise RuntimeError(str(error)) from None
        with open(out_model_path, "wb") as out:
            out.write(content)
