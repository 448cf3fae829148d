// Encoders for building compressed bodies in tests, using the zlib and brotli libraries.
#pragma once

#include <string>
#include <string_view>

namespace jamjet::http::test_util {

std::string GzipCompress(std::string_view data);
std::string ZlibCompress(std::string_view data);        // RFC 1950, what "deflate" means
std::string RawDeflateCompress(std::string_view data);  // RFC 1951, as some servers send it
std::string BrotliCompress(std::string_view data);

}  // namespace jamjet::http::test_util
