"""Packages the staged tree: the Python packages and the prebuilt extension module.

The module is built by CMake (target tpufleet_native) into tpufleet/ of the staging tree this
file is copied to; setup.py only carries it into the wheel, which is therefore platform-specific.
"""
import glob
import os

from setuptools import find_packages, setup
from setuptools.dist import Distribution

here = os.path.dirname(os.path.abspath(__file__))
if not glob.glob(os.path.join(here, "tpufleet", "_native*.so")):
    raise SystemExit(
        "tpufleet/_native*.so is missing: build the wheel from CMake's staging tree "
        "(cmake --build build --target tpufleet_python, then "
        "python3 -m build --no-isolation build/python/stage)")


class BinaryDistribution(Distribution):
    """A wheel with a native module: tagged for this Python and platform."""

    def has_ext_modules(self):
        return True


setup(
    packages=find_packages(include=["tpufleet*", "tflite_runtime*", "pycoral*", "edgetpu*"]),
    package_data={"tpufleet": ["_native*.so"]},
    distclass=BinaryDistribution,
)
