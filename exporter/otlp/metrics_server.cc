#include "exporter/otlp/metrics_server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "spdlog/fmt/fmt.h"

namespace jamjet::otlp {
namespace {

MHD_Result HandleRequest(void* context, MHD_Connection* connection, const char* /*url*/,
                         const char* method, const char* /*version*/, const char* /*upload_data*/,
                         size_t* /*upload_data_size*/, void** /*request_state*/) {
  auto* render = static_cast<std::function<std::string()>*>(context);
  bool is_get = std::strcmp(method, MHD_HTTP_METHOD_GET) == 0;
  std::string body = is_get ? (*render)() : "only GET is supported\n";
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), body.data(), MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "text/plain; version=0.0.4; charset=utf-8");
  MHD_Result result =
      MHD_queue_response(connection, is_get ? MHD_HTTP_OK : MHD_HTTP_METHOD_NOT_ALLOWED, response);
  MHD_destroy_response(response);
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    uint16_t port, std::function<std::string()> render) {
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(render)));
  sockaddr_in address;
  std::memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server->daemon_ = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, nullptr, nullptr, &HandleRequest,
      &server->render_, MHD_OPTION_SOCK_ADDR, reinterpret_cast<sockaddr*>(&address),
      MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_END);
  if (server->daemon_ == nullptr) {
    return absl::UnavailableError(fmt::format(
        "starting the metrics endpoint on 127.0.0.1:{} failed: {}", port, std::strerror(errno)));
  }
  return server;
}

MetricsServer::~MetricsServer() {
  if (daemon_ != nullptr) MHD_stop_daemon(daemon_);
}

}  // namespace jamjet::otlp
