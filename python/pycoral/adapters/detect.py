"""pycoral.adapters.detect: detection results of SSD-style models."""
import collections

import numpy as np

from pycoral.adapters import common

Object = collections.namedtuple("Object", ["id", "score", "bbox"])
Object.__doc__ = "A detected object: id (label index), score, and bbox (a BBox)."


class BBox(collections.namedtuple("BBox", ["xmin", "ymin", "xmax", "ymax"])):
    """A bounding box: (xmin, ymin) the top-left corner, (xmax, ymax) the bottom-right one."""

    __slots__ = ()

    @property
    def width(self):
        return self.xmax - self.xmin

    @property
    def height(self):
        return self.ymax - self.ymin

    @property
    def area(self):
        return self.width * self.height

    @property
    def valid(self):
        """Whether the box has non-negative width and height."""
        return self.width >= 0 and self.height >= 0

    def scale(self, sx, sy):
        return BBox(xmin=sx * self.xmin, ymin=sy * self.ymin,
                    xmax=sx * self.xmax, ymax=sy * self.ymax)

    def translate(self, dx, dy):
        return BBox(xmin=dx + self.xmin, ymin=dy + self.ymin,
                    xmax=dx + self.xmax, ymax=dy + self.ymax)

    def map(self, f):
        return BBox(xmin=f(self.xmin), ymin=f(self.ymin), xmax=f(self.xmax), ymax=f(self.ymax))

    @staticmethod
    def intersect(a, b):
        """The intersection of a and b (possibly invalid)."""
        return BBox(xmin=max(a.xmin, b.xmin), ymin=max(a.ymin, b.ymin),
                    xmax=min(a.xmax, b.xmax), ymax=min(a.ymax, b.ymax))

    @staticmethod
    def union(a, b):
        return BBox(xmin=min(a.xmin, b.xmin), ymin=min(a.ymin, b.ymin),
                    xmax=max(a.xmax, b.xmax), ymax=max(a.ymax, b.ymax))

    @staticmethod
    def iou(a, b):
        """Intersection over union; 0.0 when they do not intersect."""
        intersection = BBox.intersect(a, b)
        if not intersection.valid:
            return 0.0
        area = intersection.area
        return area / (a.area + b.area - area)


def get_objects(interpreter, score_threshold=-float("inf"), image_scale=(1.0, 1.0)):
    """The objects with score >= score_threshold, in the model's order, boxes in input pixels
    divided by `image_scale` (what set_resized_input returned). Reads the first `count` rows
    only: the rows after them are padding the post-processing left untouched."""
    signature_list = interpreter._get_full_signature_list()
    if signature_list:
        if len(signature_list) > 1:
            raise ValueError("Only support model with one signature.")
        signature = signature_list[next(iter(signature_list))]
        count = int(interpreter.tensor(signature["outputs"]["output_0"])()[0])
        scores = interpreter.tensor(signature["outputs"]["output_1"])()[0]
        class_ids = interpreter.tensor(signature["outputs"]["output_2"])()[0]
        boxes = interpreter.tensor(signature["outputs"]["output_3"])()[0]
    elif common.output_tensor(interpreter, 3).size == 1:
        boxes = common.output_tensor(interpreter, 0)[0]
        class_ids = common.output_tensor(interpreter, 1)[0]
        scores = common.output_tensor(interpreter, 2)[0]
        count = int(common.output_tensor(interpreter, 3)[0])
    else:
        scores = common.output_tensor(interpreter, 0)[0]
        boxes = common.output_tensor(interpreter, 1)[0]
        count = int(common.output_tensor(interpreter, 2)[0])
        class_ids = common.output_tensor(interpreter, 3)[0]

    width, height = common.input_size(interpreter)
    image_scale_x, image_scale_y = image_scale
    sx, sy = width / image_scale_x, height / image_scale_y

    def make(i):
        ymin, xmin, ymax, xmax = boxes[i]
        return Object(
            id=int(class_ids[i]),
            score=float(scores[i]),
            bbox=BBox(xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax).scale(sx, sy).map(int))

    return [make(i) for i in range(min(count, len(scores))) if scores[i] >= score_threshold]
