"""pycoral.adapters.segment: semantic segmentation results."""
import numpy as np

from pycoral.adapters import common


def get_output(interpreter):
    """Output 0 without its batch dimension, copied as uint8."""
    return common.output_tensor(interpreter, 0)[0].astype(np.uint8)
