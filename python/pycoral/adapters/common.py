"""pycoral.adapters.common: the input and output tensors of an interpreter."""
import numpy as np


def output_tensor(interpreter, i):
    """Output i as a view in place (the next invoke overwrites it)."""
    return interpreter.tensor(interpreter.get_output_details()[i]["index"])()


def input_details(interpreter, key):
    """Input 0's details-dict entry `key`."""
    return interpreter.get_input_details()[0][key]


def input_size(interpreter):
    """(width, height) of input 0, a [1, height, width, channels] tensor."""
    _, height, width, _ = input_details(interpreter, "shape")
    return width, height


def input_tensor(interpreter):
    """Input 0 without its batch dimension, as a view (height, width, channels)."""
    return interpreter.tensor(input_details(interpreter, "index"))()[0]


def set_input(interpreter, data):
    """Copies `data` (a PIL image or an array that casts to (height, width, channels)) into
    input 0."""
    input_tensor(interpreter)[:, :] = data


def set_resized_input(interpreter, size, resize):
    """Writes the image of `size` (w, h) resized by `resize((w', h'))` to fit input 0, keeping
    its aspect ratio, into the top-left corner of a zeroed input 0. Returns the resized image
    and the scale (scale, scale)."""
    width, height = input_size(interpreter)
    w, h = size
    scale = min(width / w, height / h)
    w, h = int(w * scale), int(h * scale)
    tensor = input_tensor(interpreter)
    tensor.fill(0)  # padding
    _, _, channel = tensor.shape
    result = resize((w, h))
    tensor[:h, :w] = np.reshape(result, (h, w, channel))
    return result, (scale, scale)
