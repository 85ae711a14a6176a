"""PyCoral's API, run by tpufleet: existing PyCoral programs run unchanged (docs/python.md)."""
__version__ = "2.0.0"
