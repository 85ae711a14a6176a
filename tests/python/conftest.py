"""Shared fixtures: the real models, labels and images (../shared beside the checkout, or
$TPUFLEET_SHARED_DIR), and the simulated rig."""
import os

import numpy as np
import pytest

SHARED = os.environ.get(
    "TPUFLEET_SHARED_DIR",
    os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))


def shared_file(*parts):
    """The path of a shared file; skips the test, naming the file, when it is missing."""
    path = os.path.join(SHARED, *parts)
    if not os.path.exists(path):
        pytest.skip(f"{path} is missing: the real models, labels and images live in "
                    "../shared beside the checkout (or set TPUFLEET_SHARED_DIR)")
    return path


def model(name):
    return shared_file("models", name)


def image(name, size, mode="RGB"):
    """The shared image `name` resized (bilinear) to `size`, as a uint8 (H, W, C) array."""
    from PIL import Image
    with Image.open(shared_file("images", name)) as img:
        return np.asarray(img.convert(mode).resize(size, Image.BILINEAR))


@pytest.fixture
def simulated(monkeypatch):
    """TPUFLEET_SIMULATE=1: the default simulated rig (two USB 3 sticks)."""
    monkeypatch.setenv("TPUFLEET_SIMULATE", "1")
