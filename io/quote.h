// Quoting untrusted text for error messages (io's parsers and the loaders built on io, such as
// train/checkpoint.cc), so a message from a hostile file stays one short line.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace graphrun::io {

// `text` in double quotes, control bytes and quotes escaped, cut to max_len bytes with "..."
// so a message from a hostile file stays one short line.
inline std::string quote_text(std::string_view text, size_t max_len = 64) {
  std::string out = "\"";
  size_t n = text.size() < max_len ? text.size() : max_len;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (n < text.size()) out += "...";
  return out;
}

}  // namespace graphrun::io
