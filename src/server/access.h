// Who may use the daemon, the same for every protocol: a bind address other than loopback needs
// an API key; with a key every request must carry it as "Bearer KEY" (the HTTP Authorization
// header, or gRPC's authorization metadata); repository load and unload are refused on
// non-loopback binds unless model control is allowed. Health probes need no key (IsHealthProbe):
// orchestrators and load balancers probe them and cannot send secrets, and they tell only
// whether the daemon is up and ready. Each protocol answers a refusal with its
// own code (HTTP 401 and 403, gRPC UNAUTHENTICATED and PERMISSION_DENIED) and these messages.
//
// Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tpufleet/status.h"

namespace tpufleet::server {

// What a front's access rule depends on; every protocol's front has one.
struct AccessOptions {
  std::string host = "127.0.0.1";    // the address bound
  std::string api_key;               // empty: none required (loopback binds only)
  bool allow_model_control = false;  // load/unload on a non-loopback bind
};

// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(const std::string& host);

// OK, or INVALID_ARGUMENT when the host is not loopback and there is no API key; `flag` names
// the option that gave the address ("--http"), for the message (empty: none).
Status CheckBindNeedsKey(const AccessOptions& access, std::string_view flag = "");

// HTTP paths open without the key: /v2/health/live and /v2/health/ready. (gRPC's counterpart,
// the grpc.health.v1.Health service, is likewise open.)
bool IsHealthProbe(std::string_view path);

// Equal strings, compared in time that depends on their lengths only.
bool SameKey(std::string_view given, std::string_view key);

// True when no key is set, or `authorization` is "Bearer KEY".
bool BearerAuthorized(std::string_view authorization, const AccessOptions& access);

// The message of a request refused for want of the key; `also` names another way to send it
// (empty: none).
std::string UnauthorizedMessage(std::string_view how, std::string_view also = "");

// Why loading and unloading is refused; empty when it is allowed.
std::optional<std::string> ModelControlRefusal(const AccessOptions& access);

}  // namespace tpufleet::server
