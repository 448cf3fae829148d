// Serves Prometheus text metrics on 127.0.0.1 with libmicrohttpd.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct MHD_Daemon;

namespace jamjet::otlp {

class MetricsServer {
 public:
  // Listens on 127.0.0.1:`port` and replies to every GET with `render()`, called on libmicrohttpd's
  // thread. Fails when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(uint16_t port,
                                                              std::function<std::string()> render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

 private:
  explicit MetricsServer(std::function<std::string()> render) : render_(std::move(render)) {}

  std::function<std::string()> render_;
  MHD_Daemon* daemon_ = nullptr;
};

}  // namespace jamjet::otlp
