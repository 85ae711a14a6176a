// Who may use the daemon, the same for every protocol: a bind address other than loopback needs
// an API key; with a key every request must carry it as "Bearer KEY" (the HTTP Authorization
// header, or gRPC's authorization metadata); repository load and unload are refused on
// non-loopback binds unless model control is allowed. Each protocol answers a refusal with its
// own code (HTTP 401 and 403, gRPC UNAUTHENTICATED and PERMISSION_DENIED) and these messages.
//
// Stateless and thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tpufleet/status.h"

namespace tpufleet::server {

// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopback(const std::string& host);

// OK, or INVALID_ARGUMENT when `host` is not loopback and `api_key` is empty.
Status CheckBindNeedsKey(const std::string& host, const std::string& api_key);

// Equal strings, compared in time that depends on their lengths only.
bool SameKey(std::string_view given, std::string_view key);

// True when no key is set, or `authorization` is "Bearer KEY".
bool BearerAuthorized(std::string_view authorization, const std::string& api_key);

// The message of a request refused for want of the key; `also` names another way to send it
// (empty: none).
std::string UnauthorizedMessage(std::string_view how, std::string_view also = "");

// Why loading and unloading is refused on `host`; empty when it is allowed.
std::optional<std::string> ModelControlRefusal(const std::string& host, bool allowed);

}  // namespace tpufleet::server
