// DeviceInfo: what tpufleet knows about one Edge TPU (or a CPU or simulated device).
//
// A device's identity is (type, path), as libedgetpu has it: `/sys/bus/usb/devices/2-1.3` for a
// USB stick (stable across the firmware load, since it names the port), `/dev/apex_0` for a PCIe
// device. Indexes such as `usb:1` depend on libedgetpu's enumeration order (docs/devices.md).
//
// DeviceHandle: one device opened for this process, shared by every interpreter (and fleet)
// that runs on it, as libedgetpu's EdgeTpuManager::OpenDevice shares an EdgeTpuContext.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tpufleet/status.h"

namespace tpufleet {

enum class DeviceType { kPci, kUsb, kCpu, kSim };

// "pci", "usb", "cpu", "sim": the words of device strings.
const char* DeviceTypeName(DeviceType type);

enum class DeviceState {
  kReady,           // usable now
  kNeedsFirmware,   // USB stick in bootloader mode (1a6e:089a); the runtime loads firmware on open
  kOwnedElsewhere,  // PCIe node owned by another process
  kMissingNode,     // PCIe device without its /dev/apex_N node (driver not loaded?)
};

const char* DeviceStateName(DeviceState state);

// One hub between a USB device and its root hub.
struct UsbHub {
  std::string name;  // sysfs name, e.g. "2-3.2"
  int port = 0;      // port of the parent this hub is plugged into
  int ports = 0;     // downstream ports (maxchild)
  int speed_mbps = 0;
  std::optional<bool> self_powered;  // from bmAttributes; absent when sysfs does not say
  int max_power_ma = 0;              // what the hub itself draws upstream (bMaxPower)
};

struct DeviceInfo {
  DeviceType type = DeviceType::kUsb;
  std::string path;  // libedgetpu's path string
  std::string name;  // sysfs name: "2-1.3", "apex_0"; for sim and cpu devices their selector
  DeviceState state = DeviceState::kReady;
  int link_speed_mbps = 0;  // USB: 5000, 480, ...; PCIe: per-lane rate (5000 for Gen2); 0 = unknown
  bool seen_by_runtime = false;  // also listed by libedgetpu's edgetpu_list_devices

  // USB
  int bus = 0;
  std::vector<int> ports;    // port chain from the root hub, e.g. {3, 2, 1}
  std::vector<UsbHub> hubs;  // hubs from the root hub's child down to the device's parent
  int root_hub_ports = 0;
  int root_hub_speed_mbps = 0;
  int max_power_ma = 0;  // bMaxPower
  std::string serial;

  // PCIe
  std::optional<double> temperature_c;
  std::vector<double> trip_points_c;  // the kernel lowers the clock one step at each
  std::optional<int> owner_pid;       // set when owned by another process
  int pcie_lanes = 0;
};

// How devices are opened. A real Edge TPU is opened once per process: the options of its first
// open stay, and a later open that asks for other delegate options, or for isolation of a device
// open in this process, is FAILED_PRECONDITION.
struct DeviceOptions {
  std::string sim_topology_json;  // the rig sim:N comes from; empty: two USB 3 sticks
  bool real_time = false;         // a simulated device waits its modeled time
  int cpu_threads = 1;            // CPU device: its threads; Edge TPU: for the operators around it
  // Real Edge TPUs: delegate options (Performance=Low|Medium|High|Max, Usb.AlwaysDfu=True|False,
  // Usb.MaxBulkInQueueLength=0..256), checked first; and isolation in a child process.
  std::vector<std::pair<std::string, std::string>> edgetpu_options;
  bool isolate = false;
};

// An opened device. Shared: copies of the pointer and every interpreter made on it keep it open;
// the last one to go closes it. Thread-safe: the interpreters on one handle take turns on the
// device (each invocation runs alone on it), from any threads.
class DeviceHandle {
 public:
  ~DeviceHandle();
  DeviceHandle(const DeviceHandle&) = delete;
  DeviceHandle& operator=(const DeviceHandle&) = delete;

  const DeviceInfo& info() const;
  // The device string that names it whatever the enumeration order: "usb@2-1.3", "pci@apex_0",
  // "sim:1", "cpu".
  std::string name() const;
  const DeviceOptions& options() const;

 private:
  friend class DeviceHandleInternal;
  struct State;
  explicit DeviceHandle(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

using DevicePtr = std::shared_ptr<DeviceHandle>;

// Opens the device a device string names (docs/devices.md): "", "usb", "pci" pick one as
// libedgetpu does (one already open in this process, else the first; PCIe first for ""),
// ":N", "usb:N", "pci:N" index libedgetpu's enumeration order, "#N", "usb#N", "pci#N" the stable
// order, "usb@2-1.3" and "pci@/dev/apex_0" name a device by path; "sim:N" and "cpu". A real
// Edge TPU already open in this process gives the same handle; simulated and CPU devices are
// new on every call. Errors: INVALID_ARGUMENT for a malformed string, NOT_FOUND when it names no
// device (the message lists those that exist), FAILED_PRECONDITION or RESOURCE_EXHAUSTED when the
// device is owned by another process, UNAVAILABLE when the runtime cannot open it. Blocks while
// the runtime opens the device (seconds for a USB stick that needs its firmware).
Result<DevicePtr> OpenDevice(const std::string& device = "", const DeviceOptions& options = {});
// Opens a device from a listing (ListDevices).
Result<DevicePtr> OpenDevice(const DeviceInfo& device, const DeviceOptions& options = {});
// As EdgeTpuManager::OpenDevice(device_type, device_path): the Edge TPU of `type` (kUsb or
// kPci) at `path` as the listing gives it ("/sys/bus/usb/devices/2-1.3", "/dev/apex_0"); an
// empty path picks one of that type as "usb" and "pci" do.
Result<DevicePtr> OpenDevice(DeviceType type, const std::string& path,
                             const DeviceOptions& options = {});

}  // namespace tpufleet
