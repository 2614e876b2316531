// core/base64.h — RFC 4648 base64, standard alphabet with '=' padding (what tokenizers writes for binary
// fields such as the Precompiled normalizer's charsmap).
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace accent {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not canonical padded base64 (length a multiple of 4, alphabet A-Z a-z 0-9 + /).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace accent
