// Content-Encoding decoding (RFC 9110 section 8.4) of captured HTTP bodies: gzip, deflate and br.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace jamjet::http {

struct DecodedContent {
  std::string data;
  // The output reached max_output_bytes and the rest of it was dropped.
  bool truncated = false;
  // The input ended inside a compressed stream, so data holds only what decoded before the end.
  bool input_ended_early = false;
};

// Returns true when `content_encoding` lists no coding other than "identity", so the body is
// stored as received.
bool IsIdentityEncoding(std::string_view content_encoding);

// Decodes `body` whose Content-Encoding header value is `content_encoding`. The header lists
// codings in the order they were applied, so "gzip, br" is decoded as br first, then gzip.
// Supports identity, gzip, x-gzip, deflate (zlib-wrapped or raw) and br, case-insensitively.
// Output beyond max_output_bytes is dropped and reported as truncated, which bounds memory for
// decompression bombs. Returns InvalidArgument for an unsupported coding or corrupt data.
absl::StatusOr<DecodedContent> DecodeContent(std::string_view content_encoding,
                                             std::string_view body, size_t max_output_bytes);

// Decoders for single codings. DecodeGzip accepts concatenated gzip members, and DecodeDeflate
// accepts both the zlib format (RFC 1950) and raw deflate (RFC 1951).
absl::StatusOr<DecodedContent> DecodeGzip(std::string_view input, size_t max_output_bytes);
absl::StatusOr<DecodedContent> DecodeDeflate(std::string_view input, size_t max_output_bytes);
absl::StatusOr<DecodedContent> DecodeBrotli(std::string_view input, size_t max_output_bytes);

}  // namespace jamjet::http
