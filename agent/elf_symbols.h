// Finds OpenSSL's exported functions in an ELF file.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "agent/tracer.h"

namespace jamjet {

// Reads the dynamic symbol table of the ELF file at `path` and returns the file offsets of
// the SSL functions it defines. A file that only imports them gets an empty result.
absl::StatusOr<SslSymbolOffsets> ReadSslSymbols(const std::string& path);

}  // namespace jamjet
