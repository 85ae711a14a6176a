"""The checks and conversion the Edge TPU API's engines apply to a PIL image input."""
import numpy as np


def input_size_and_mode(engine):
    """((width, height), PIL mode) of a [1, height, width, channels] engine input."""
    shape = engine.get_input_tensor_shape()
    if shape.size != 4 or shape[0] != 1:
        raise RuntimeError("Invalid input tensor shape! Expected: [1, height, width, channel]")
    _, height, width, channels = shape
    if channels not in (1, 3):
        raise ValueError(f"Invalid input tensor channel! Expected: 1 or 3. Actual: {channels}")
    return (int(width), int(height)), ("L" if channels == 1 else "RGB")


def flat_pixels(img, mode):
    return np.asarray(img.convert(mode)).flatten()
