"""pycoral.adapters.classify: classification results."""
import collections
import operator

import numpy as np

from pycoral.adapters import common

Class = collections.namedtuple("Class", ["id", "score"])
Class.__doc__ = "A classification result: id (label index) and score."


def num_classes(interpreter):
    """Elements of output 0."""
    return np.prod(interpreter.get_output_details()[0]["shape"])


def get_scores(interpreter):
    """Output 0's scores, dequantized (float64) when it is quantized."""
    output_details = interpreter.get_output_details()[0]
    scores = common.output_tensor(interpreter, 0).flatten()  # a copy
    if np.issubdtype(output_details["dtype"], np.integer):
        scale, zero_point = output_details["quantization"]
        # int64 first, so that the subtraction cannot overflow.
        return scale * (scores.astype(np.int64) - zero_point)
    return scores


def get_classes_from_scores(scores, top_k=float("inf"), score_threshold=-float("inf")):
    """The top_k classes with score >= score_threshold, best first."""
    top_k = min(top_k, len(scores))
    classes = [
        Class(i, scores[i])
        for i in np.argpartition(scores, -top_k)[-top_k:]
        if scores[i] >= score_threshold
    ]
    return sorted(classes, key=operator.itemgetter(1), reverse=True)


def get_classes(interpreter, top_k=float("inf"), score_threshold=-float("inf")):
    """The top_k classes of output 0 with score >= score_threshold, best first."""
    return get_classes_from_scores(get_scores(interpreter), top_k, score_threshold)
