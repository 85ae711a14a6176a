"""The deprecated Edge TPU Python API (edgetpu 2.15), run by tpufleet: BasicEngine,
ClassificationEngine, DetectionEngine and their device assignment (docs/python.md)."""
__version__ = "2.15.0"
