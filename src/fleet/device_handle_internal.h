// What a DeviceHandle (tpufleet/device.h) holds, for the layers that run on it: the device, its
// options, and the lock that gives each user its turn.
#pragma once

#include <memory>
#include <mutex>

#include "backends/device.h"
#include "fleet/device_factory.h"
#include "tpufleet/device.h"

namespace tpufleet {

struct DeviceHandle::State {
  std::unique_ptr<backends::Device> device;
  DeviceOptions options;
  // Held for every Prepare, Run, Probe and Program destruction on the device.
  std::mutex mutex;
};

class DeviceHandleInternal {
 public:
  using State = DeviceHandle::State;
  static DevicePtr Make(std::unique_ptr<backends::Device> device, DeviceOptions options);
  static State& Of(const DeviceHandle& handle) { return *handle.state_; }
};

// Guards the registry of real Edge TPUs open in this process: held while one is opened or
// closed, so the device lock is never taken twice by this process.
std::recursive_mutex& OpenDevicesMutex();

// The options of a handle opened through `factory` options.
DeviceOptions HandleOptions(const fleet::DeviceFactoryOptions& options);

// A device for one owner (a fleet's worker) that runs on a shared handle, in turn with the
// handle's other users.
std::unique_ptr<backends::Device> SharedDeviceView(DevicePtr handle);

}  // namespace tpufleet
