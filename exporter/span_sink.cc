#include "exporter/span_sink.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "exporter/json_lines_sink.h"

namespace jamjet {

Resource DetectHostResource() {
  Resource resource;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) {
    SetAttribute(resource.attributes, "host.name", std::string(host));
  }
  struct utsname system;
  if (uname(&system) == 0) {
    SetAttribute(resource.attributes, "host.arch", std::string(system.machine));
    SetAttribute(resource.attributes, "os.version", std::string(system.release));
  }
  SetAttribute(resource.attributes, "os.type", std::string("linux"));
  SetAttribute(resource.attributes, "telemetry.distro.name", std::string("jamjet-agent"));
  SetAttribute(resource.attributes, "telemetry.distro.version", std::string(JAMJET_VERSION));
  return resource;
}

absl::StatusOr<std::unique_ptr<SpanSink>> CreateSink(const std::string& spec,
                                                     const Resource& resource) {
  if (spec == "stdout") {
    return std::make_unique<JsonLinesSink>(stdout, false, "stdout", resource);
  }
  if (spec.starts_with("file:")) {
    std::string path = spec.substr(5);
    if (path.empty())
      return absl::InvalidArgumentError("--output file: needs a path, as file:PATH");
    FILE* file = fopen(path.c_str(), "ae");
    if (file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("opening output file ", path, " failed: ", std::strerror(errno)));
    }
    return std::make_unique<JsonLinesSink>(file, true, path, resource);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid --output value \"", spec, "\": expected stdout or file:PATH"));
}

}  // namespace jamjet
