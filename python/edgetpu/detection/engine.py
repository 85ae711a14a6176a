"""edgetpu.detection.engine.DetectionEngine: an SSD detector (TFLite_Detection_PostProcess's
four outputs: boxes, classes, scores, count) on an Edge TPU."""
import numpy as np
from PIL import Image

from edgetpu.basic.basic_engine import BasicEngine
from edgetpu.basic.image_input import flat_pixels, input_size_and_mode
from edgetpu.utils.image_processing import resampling_with_original_ratio


class DetectionCandidate:
    """A detection: label_id, score, bounding_box [[x1, y1], [x2, y2]]."""

    __slots__ = ["label_id", "score", "bounding_box"]

    def __init__(self, label_id, score, x1, y1, x2, y2):
        self.label_id = label_id
        self.score = score
        self.bounding_box = np.array([[x1, y1], [x2, y2]])


class DetectionEngine(BasicEngine):
    """A detector with SSD post-processing's four outputs."""

    def __init__(self, model_path, device_path=None):
        super().__init__(model_path, device_path)
        self._require_outputs(4, "Detection")

    def detect_with_image(self, img, threshold=0.1, top_k=3, keep_aspect_ratio=False,
                          relative_coord=True, resample=Image.NEAREST):
        """The detections in `img` (a PIL image); boxes relative to it, or in its pixels (as
        floats) when relative_coord is False."""
        size, mode = input_size_and_mode(self)
        if keep_aspect_ratio:
            resized, ratio = resampling_with_original_ratio(img, size, resample)
        else:
            resized, ratio = img.resize(size, resample), (1.0, 1.0)
        candidates = self.detect_with_input_tensor(flat_pixels(resized, mode),
                                                   threshold=threshold, top_k=top_k)
        for candidate in candidates:
            if keep_aspect_ratio:
                candidate.bounding_box = np.clip(candidate.bounding_box / ratio, 0.0, 1.0)
            if not relative_coord:
                candidate.bounding_box = candidate.bounding_box * img.size
        return candidates

    def detect_with_input_tensor(self, input_tensor, threshold=0.1, top_k=3):
        """The `top_k` detections scoring above `threshold`, best first, in coordinates relative
        to the input."""
        if top_k <= 0:
            raise ValueError("top_k must be positive!")
        _, result = self.run_inference(input_tensor)
        box_size, class_size, score_size, _ = (int(s) for s in self.get_all_output_tensors_sizes())
        boxes = result[:box_size].reshape(-1, 4)
        classes = result[box_size:box_size + class_size]
        scores = result[box_size + class_size:box_size + class_size + score_size]
        count = min(int(round(float(result[-1]))), len(scores))
        candidates = []
        for i in range(count):
            if scores[i] > threshold:
                ymin, xmin, ymax, xmax = boxes[i]
                candidates.append(DetectionCandidate(
                    int(round(float(classes[i]))), scores[i], max(xmin, 0.0), max(ymin, 0.0),
                    min(xmax, 1.0), min(ymax, 1.0)))
        candidates.sort(key=lambda c: -c.score)
        return candidates[:top_k]
