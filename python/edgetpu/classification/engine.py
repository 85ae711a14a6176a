"""edgetpu.classification.engine.ClassificationEngine: a classifier on an Edge TPU."""
import numpy as np
from PIL import Image

from edgetpu.basic.basic_engine import BasicEngine
from edgetpu.basic.image_input import flat_pixels, input_size_and_mode


class ClassificationEngine(BasicEngine):
    """A model with one output of class scores."""

    def __init__(self, model_path, device_path=None):
        super().__init__(model_path, device_path)
        self._require_outputs(1, "Classification")

    def classify_with_image(self, img, threshold=0.1, top_k=3, resample=Image.NEAREST):
        """[(label_id, score)] of `img` (a PIL image, resized to the input without keeping its
        aspect ratio)."""
        size, mode = input_size_and_mode(self)
        return self.classify_with_input_tensor(flat_pixels(img.resize(size, resample), mode),
                                               threshold=threshold, top_k=top_k)

    def classify_with_input_tensor(self, input_tensor, threshold=0.0, top_k=3):
        """The `top_k` [(label_id, score)] scoring above `threshold`, best first."""
        if top_k <= 0:
            raise ValueError("top_k must be positive!")
        _, scores = self.run_inference(input_tensor)
        top_k = min(top_k, len(scores))
        candidates = np.argpartition(scores, -top_k)[-top_k:]
        kept = [(i, scores[i]) for i in candidates if scores[i] > threshold]
        return sorted(kept, key=lambda pair: -pair[1])
