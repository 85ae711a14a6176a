// A protocol answer as the HTTP layer sends it (the gRPC layer reads its JSON body and its
// error), and the one status mapping every protocol shares: INVALID_ARGUMENT and DATA_LOSS 400,
// NOT_FOUND 404, RESOURCE_EXHAUSTED (queue full) 429, UNAVAILABLE (no device can serve,
// draining) 503 with Retry-After, DEADLINE_EXCEEDED 504, UNIMPLEMENTED 501, everything else 500.
// Error bodies are {"error": "<message>"}; gRPC answers the error's own code and message.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tpufleet/status.h"

namespace tpufleet::server {

struct Reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::optional<uint64_t> header_length;  // Inference-Header-Content-Length, for binary tensors
  int retry_after_seconds = 0;            // 0: no Retry-After
  std::string model;  // the served model the request named, for metrics; empty: none
  // What failed, for protocols with codes of their own (gRPC); OK when the answer is no error.
  Status error;
};

int HttpStatus(StatusCode code);

inline Reply JsonReply(const nlohmann::json& body, int status = 200) {
  return Reply{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

// `status` as {"error": message} (plus `extra` members) with its HTTP status.
inline Reply ErrorReply(const Status& status, nlohmann::json extra = nlohmann::json::object()) {
  extra["error"] = status.message();
  Reply reply = JsonReply(extra, HttpStatus(status.code()));
  reply.error = status;
  if (reply.status == 503) reply.retry_after_seconds = 1;
  return reply;
}

}  // namespace tpufleet::server
