"""edgetpu.basic.edgetpu_utils: the Edge TPUs and which of them engines hold."""
from edgetpu.basic import device_assignment
from pycoral.utils import edgetpu as _pycoral_edgetpu
from tpufleet import coral_devices

EDGE_TPU_STATE_NONE = 0
EDGE_TPU_STATE_ASSIGNED = 1
EDGE_TPU_STATE_UNASSIGNED = 2


def ListEdgeTpuPaths(state):
    """A tuple of the device paths in enumeration order: every device (EDGE_TPU_STATE_NONE),
    those held by a live engine of this process (ASSIGNED) or the others (UNASSIGNED)."""
    paths = [path for _, path, _ in coral_devices.edge_tpus()]
    assigned = device_assignment.assigned_paths()
    if state == EDGE_TPU_STATE_NONE:
        return tuple(paths)
    if state == EDGE_TPU_STATE_ASSIGNED:
        return tuple(p for p in paths if p in assigned)
    if state == EDGE_TPU_STATE_UNASSIGNED:
        return tuple(p for p in paths if p not in assigned)
    raise ValueError(f"state {state!r} is not EDGE_TPU_STATE_NONE (0), EDGE_TPU_STATE_ASSIGNED "
                     "(1) or EDGE_TPU_STATE_UNASSIGNED (2)")


def GetRuntimeVersion():
    return _pycoral_edgetpu.get_runtime_version()
