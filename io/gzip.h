// Whole-file gzip inflation for text formats (CSV): the bytes of a .gz file, or the bytes as
// they are when they do not start with the gzip magic (1f 8b).
//
// Safety: the output is capped (max_bytes, checked while inflating, so a gzip bomb stops at the
// cap); a stream cut short, corrupt data or trailing garbage is Error(BadInput) naming the file.
// Concatenated gzip members are read as one stream, as gunzip does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace graphrun::io {

bool is_gzip(std::span<const std::byte> bytes);
// The inflated bytes (or `bytes` unchanged when they are not gzip).
std::string gunzip_text(std::span<const std::byte> bytes, const std::string& name_for_errors, uint64_t max_bytes);

}  // namespace graphrun::io
