"""Edge TPUs as Coral's libedgetpu sees them, for the compatible packages (tflite_runtime's Edge
TPU delegate, pycoral.utils.edgetpu).

Real devices by default. With the environment variable TPUFLEET_SIMULATE set, a simulated rig
instead: "1" for the default one (two USB 3 sticks), or the path of a topology JSON file
(docs/simulator.md). A simulated stick computes a compiled model's outputs through its
uncompiled twin beside it; TPUFLEET_SIM_MODELS (files or folders, separated by os.pathsep) names
more candidates, which a compiled model given as bytes needs. Device strings mean what they mean
in libedgetpu:
  "" or "usb"/"pci"  a device already open in this process (of that type), else the first one;
  ":N"               the N-th device of list_edge_tpus();
  "usb:N", "pci:N"   the N-th device of that type in it.
Like libedgetpu, one device is opened once per process and shared by every delegate on it, and
closed when the last one lets go.
"""
import json
import os
import re
import threading
import weakref

from tpufleet import _native

_SELECTOR = re.compile(r"^(usb|pci)?(?::(\d+))?$")


class DeviceNotFound(Exception):
    """No Edge TPU matches a device string; str() says what there is."""


class OpenedDevice:
    """A device opened for delegates: `device` (a tpufleet.Device), `type` ('usb' or 'pci'),
    `path`. Shared by every delegate that names it while one holds it."""

    def __init__(self, device, type_, path):
        self.device = device
        self.type = type_
        self.path = path


_lock = threading.Lock()
_opened = weakref.WeakValueDictionary()  # path -> OpenedDevice


def simulated_rig():
    """The simulated rig's topology JSON ("" for the default rig), or None when TPUFLEET_SIMULATE
    is not set. Raises DeviceNotFound when it names a file that cannot be read."""
    setting = os.environ.get("TPUFLEET_SIMULATE", "")
    if setting in ("", "0"):
        return None
    if setting == "1":
        return ""
    try:
        with open(setting, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise DeviceNotFound(
            f"TPUFLEET_SIMULATE is '{setting}', which is neither 1 (the default rig) nor a "
            f"readable topology JSON file: {e.strerror}") from None


def simulated_full_models():
    """The uncompiled models (files or folders of them) TPUFLEET_SIM_MODELS names, for compiled
    models without a twin beside them."""
    return [p for p in os.environ.get("TPUFLEET_SIM_MODELS", "").split(os.pathsep) if p]


def _simulated_devices(rig):
    """[(type, path, device string)] of a simulated rig, PCIe first as libedgetpu lists them."""
    if rig:
        try:
            links = [d.get("link", "usb3") for d in json.loads(rig).get("devices", [])]
        except (ValueError, AttributeError) as e:
            raise DeviceNotFound(f"the simulated rig of TPUFLEET_SIMULATE is not a topology "
                                 f"JSON object with a 'devices' list: {e}") from None
    else:
        links = ["usb3", "usb3"]
    devices = [("pci" if link == "pcie" else "usb", f"sim:{i}", f"sim:{i}")
               for i, link in enumerate(links)]
    return ([d for d in devices if d[0] == "pci"] + [d for d in devices if d[0] == "usb"])


def edge_tpus():
    """[(type, path, device string)] of the Edge TPUs in libedgetpu's enumeration order."""
    rig = simulated_rig()
    if rig is not None:
        return _simulated_devices(rig)
    return [(d.type, d.path, f"{d.type}@{d.name}")
            for d in _native.list_devices() if d.type in ("usb", "pci")]


def _describe(devices):
    if not devices:
        where = ("the simulated rig of TPUFLEET_SIMULATE" if simulated_rig() is not None
                 else "this machine (set TPUFLEET_SIMULATE=1 to use two simulated USB sticks)")
        return f"there is no Edge TPU on {where}"
    listed = ", ".join(f":{i} {t} {p}" for i, (t, p, _) in enumerate(devices))
    return f"the Edge TPUs are {listed}"


def _pick(selector, devices):
    match = _SELECTOR.match(selector)
    if not match:
        raise DeviceNotFound(
            f"device '{selector}' is not an Edge TPU device string; use '', 'usb', 'pci', "
            f"':N', 'usb:N' or 'pci:N'; {_describe(devices)}")
    kind, index = match.group(1), match.group(2)
    candidates = [d for d in devices if kind is None or d[0] == kind]
    if index is not None:
        if int(index) >= len(candidates):
            raise DeviceNotFound(f"device '{selector}' does not exist: {_describe(devices)}")
        return candidates[int(index)]
    if not candidates:
        raise DeviceNotFound(f"device '{selector}' matches no device: {_describe(devices)}")
    for candidate in candidates:
        if candidate[1] in _opened:
            return candidate
    return candidates[0]


def open_edge_tpu(selector="", edgetpu_options=None, cpu_threads=1):
    """The OpenedDevice a libedgetpu device string names, opened now or shared with the
    delegates holding it. Raises DeviceNotFound, or tpufleet.Error when it cannot be opened."""
    with _lock:
        devices = edge_tpus()
        type_, path, device_string = _pick(selector, devices)
        opened = _opened.get(path)
        if opened is not None:
            return opened
        rig = simulated_rig()
        options = {"cpu_threads": cpu_threads}
        if rig is not None:
            options["sim_topology_json"] = rig
            options["sim_full_models"] = simulated_full_models()
        elif edgetpu_options:
            options["edgetpu_options"] = dict(edgetpu_options)
        opened = OpenedDevice(_native.open_device(device_string, options), type_, path)
        _opened[path] = opened
        return opened
