"""How the Edge TPU API assigns devices to engines: a process-wide map from device path to the
number of live engines on it.

With a device path, an engine shares that device (opened if no engine holds it); without one,
it takes the first unassigned PCIe device, else the first unassigned USB one, or shares the
only device when there is exactly one. A device no engine holds is closed (unassigned).
"""
import threading

from tflite_runtime.interpreter import Delegate
from tpufleet import coral_devices

_lock = threading.Lock()
_engines_on = {}  # device path -> number of live engines holding it


def assigned_paths():
    """The paths of the devices held by at least one live engine."""
    with _lock:
        return {path for path, count in _engines_on.items() if count > 0}


def _delegate_for(path, devices):
    for position, (_, listed_path, _) in enumerate(devices):
        if listed_path == path:
            return Delegate("libedgetpu.so.1", {"device": f":{position}"})
    raise RuntimeError(f"Path {path} does not map to an Edge TPU device.")


def _unassigned(devices):
    free = [d for d in devices if _engines_on.get(d[1], 0) == 0]
    for kind in ("pci", "usb"):
        for type_, path, _ in free:
            if type_ == kind:
                return path
    raise RuntimeError(
        "Multiple Edge TPUs detected and all have been mapped to at least one model. If you "
        "want to share one Edge TPU with multiple models, specify `device_path` name.")


def claim(device_path=None):
    """(path, Delegate) of the device an engine runs on; call release(path) when the engine
    goes. Raises RuntimeError with the Edge TPU API's messages."""
    with _lock:
        try:
            devices = coral_devices.edge_tpus()
        except coral_devices.DeviceNotFound as e:
            raise RuntimeError(str(e)) from None
        if device_path:
            path = str(device_path)
        elif not devices:
            raise RuntimeError("No Edge TPU device detected!")
        elif len(devices) == 1:
            path = devices[0][1]
        else:
            path = _unassigned(devices)
        try:
            delegate = _delegate_for(path, devices)
        except ValueError as e:  # the device is listed but cannot be opened
            raise RuntimeError(f"Error in device opening ({path})!\n{e}") from None
        _engines_on[path] = _engines_on.get(path, 0) + 1
        return path, delegate


def release(path):
    with _lock:
        _engines_on[path] -= 1
        if _engines_on[path] == 0:
            del _engines_on[path]
