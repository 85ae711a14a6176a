"""TensorFlow Lite's Python runtime API, run by tpufleet (see tflite_runtime.interpreter)."""
__version__ = "2.5.0.post1"
__git_version__ = "tpufleet"
