#include "server/access.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>

namespace tpufleet::server {

bool IsLoopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

Status CheckBindNeedsKey(const AccessOptions& access, std::string_view flag) {
  if (IsLoopback(access.host) || !access.api_key.empty()) return OkStatus();
  return InvalidArgumentError(
      fmt::format("{}{}{}: a non-loopback address needs --api-key-file (clients then send "
                  "\"Authorization: Bearer KEY\")",
                  flag, flag.empty() ? "" : " ", access.host));
}

bool IsHealthProbe(std::string_view path) {
  return path == "/v2/health/live" || path == "/v2/health/ready";
}

bool SameKey(std::string_view given, std::string_view key) {
  unsigned char difference = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ key[i % std::max<size_t>(1, key.size())]);
  }
  return difference == 0;
}

bool BearerAuthorized(std::string_view authorization, const AccessOptions& access) {
  if (access.api_key.empty()) return true;
  return authorization.starts_with("Bearer ") && SameKey(authorization.substr(7), access.api_key);
}

std::string UnauthorizedMessage(std::string_view how, std::string_view also) {
  return also.empty() ? fmt::format("this daemon needs its API key: send {}", how)
                      : fmt::format("this daemon needs its API key: send {} (or, {})", how, also);
}

std::optional<std::string> ModelControlRefusal(const AccessOptions& access) {
  if (access.allow_model_control || IsLoopback(access.host)) return std::nullopt;
  return "loading and unloading models is refused on a non-loopback address; start the daemon "
         "with --allow-model-control to permit it";
}

}  // namespace tpufleet::server
