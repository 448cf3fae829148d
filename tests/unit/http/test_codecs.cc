#include "tests/unit/http/test_codecs.h"

#include <brotli/encode.h>
#include <zlib.h>

#include <cstdlib>
#include <vector>

namespace jamjet::http::test_util {
namespace {

std::string Deflate(std::string_view data, int window_bits) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    std::abort();
  }
  std::vector<unsigned char> output(deflateBound(&stream, data.size()));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = output.data();
  stream.avail_out = static_cast<uInt>(output.size());
  if (deflate(&stream, Z_FINISH) != Z_STREAM_END) std::abort();
  std::string result(reinterpret_cast<const char*>(output.data()), stream.total_out);
  deflateEnd(&stream);
  return result;
}

}  // namespace

std::string GzipCompress(std::string_view data) { return Deflate(data, 16 + MAX_WBITS); }
std::string ZlibCompress(std::string_view data) { return Deflate(data, MAX_WBITS); }
std::string RawDeflateCompress(std::string_view data) { return Deflate(data, -MAX_WBITS); }

std::string BrotliCompress(std::string_view data) {
  std::string output(BrotliEncoderMaxCompressedSize(data.size()), '\0');
  size_t output_size = output.size();
  if (!BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT,
                             data.size(), reinterpret_cast<const uint8_t*>(data.data()),
                             &output_size, reinterpret_cast<uint8_t*>(output.data()))) {
    std::abort();
  }
  output.resize(output_size);
  return output;
}

}  // namespace jamjet::http::test_util
