// Resource attributes of a traced process, read from /proc while the process is alive.
#pragma once

#include <cstdint>
#include <string>

#include "agent/span.h"

namespace jamjet {

// Reads process.pid, process.executable.name, process.command_line (secrets replaced),
// process.owner, container.id and service.name (OTEL_SERVICE_NAME from the process's
// environment, else the executable name). `comm` names the executable when /proc has no
// answer, because the process already exited.
Attributes ReadProcessResource(const std::string& proc_root, uint32_t pid, const std::string& comm);

// Returns `command_line` with the values of key-, token-, secret- and password-like options,
// bearer tokens and "sk-" keys replaced by "[REDACTED]".
std::string RedactCommandLine(const std::string& command_line);

}  // namespace jamjet
