"""edgetpu.learn.imprinting.engine.ImprintingEngine: the Edge TPU API's imprinting engine, over
pycoral's (pycoral.learn.imprinting.engine).

Training takes images (flattened input tensors) rather than embeddings: the embedding extractor
runs on an engine of its own, auto-assigned to an Edge TPU as the old API assigned every engine,
and classification runs the trained model on that same device. Native failures raise
RuntimeError with the old API's texts, as its SWIG layer did.
"""
import os
import tempfile

import numpy as np

from edgetpu.basic.basic_engine import BasicEngine
from edgetpu.classification.engine import ClassificationEngine
from pycoral.learn.imprinting import engine as pycoral_engine

_MAX_IMAGES_PER_CALL = 200


class ImprintingEngine:
    """Weight imprinting on the model at `model_path` (see pycoral's ImprintingEngine)."""

    def __init__(self, model_path, keep_classes=False):
        try:
            self._engine = pycoral_engine.ImprintingEngine(model_path, keep_classes)
        except ValueError as error:
            raise RuntimeError(str(error)) from None
        self._folder = tempfile.TemporaryDirectory(prefix="tpufleet-imprinting-")
        extractor_path = self._write("extractor.tflite",
                                     self._engine.serialize_extractor_model())
        self._extractor = BasicEngine(extractor_path)
        self._classifier = None

    def _write(self, name, content):
        path = os.path.join(self._folder.name, name)
        with open(path, "wb") as out:
            out.write(content)
        return path

    def train(self, input, class_id):
        """Trains class `class_id` (an existing imprinted class, or the next new one) on
        `input`: a 2-D uint8 array with one flattened input image per row, at most 200 rows."""
        images = np.asarray(input, dtype=np.uint8)
        if images.ndim != 2:
            raise RuntimeError(f"train takes a 2-D uint8 array, one flattened image per row; "
                               f"got an array of shape {images.shape}")
        if len(images) > _MAX_IMAGES_PER_CALL:
            raise RuntimeError(f"train takes at most {_MAX_IMAGES_PER_CALL} images per call; "
                               f"got {len(images)}: call it again for the rest")
        for image in images:
            _, embedding = self._extractor.run_inference(image)
            self._engine.train(embedding, class_id)
        self._classifier = None

    def train_all(self, input_data):
        """Trains one new class per entry of `input_data` (a list of 2-D image arrays, classes
        numbered from the current class count on; or a dict from class id to such an array)."""
        if isinstance(input_data, dict):
            items = sorted(input_data.items())
        else:
            first = self._engine.num_classes
            items = [(first + offset, images) for offset, images in enumerate(input_data)]
        for class_id, images in items:
            self.train(images, class_id)

    def save_model(self, output_path):
        """Writes the trained model to `output_path`."""
        if self._engine.num_classes == 0:
            raise RuntimeError("Model without training won't be saved!")
        with open(output_path, "wb") as out:
            out.write(self._engine.serialize_model())

    def _trained_classifier(self):
        if self._classifier is None:
            try:
                content = self._engine.serialize_model()
            except RuntimeError:
                raise RuntimeError("Model without training can't classify: train it first.") \
                    from None
            self._classifier = ClassificationEngine(self._write("trained.tflite", content),
                                                    self._extractor.device_path())
        return self._classifier

    def classify_with_input_tensor(self, input_tensor, threshold=0.0, top_k=3):
        """[(class_id, score)] of a flattened input image, as ClassificationEngine's."""
        return self._trained_classifier().classify_with_input_tensor(input_tensor, threshold,
                                                                     top_k)

    def classify_with_resized_image(self, img, threshold=0.1, top_k=3):
        """[(class_id, score)] of a PIL image already of the input's size."""
        return self.classify_with_input_tensor(np.asarray(img).flatten(), threshold, top_k)
