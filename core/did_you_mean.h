// "Did you mean" for a misspelt name in a message: the known name closest to it by edit
// distance (insertions, deletions, substitutions and swaps of neighbours each count 1; case
// ignored), when it is close enough to be a typo.
//
//   did_you_mean("beta_1", {"beta1", "beta2", "epsilon"})  == "; did you mean \"beta1\"?"
//   did_you_mean("momentum", {"beta1", "beta2"})           == ""
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace graphrun {

// The optimal-string-alignment distance between a and b, ignoring case.
inline size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [&](size_t i, size_t j) {
    return std::tolower(static_cast<unsigned char>(a[i])) == std::tolower(static_cast<unsigned char>(b[j]));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same(i - 1, j - 1) ? 0 : 1)});
      if (i > 1 && j > 1 && same(i - 1, j - 2) && same(i - 2, j - 1)) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// "; did you mean \"<name>\"?" for the closest of `names` within 1 edit (words up to 4
// characters), 2 (up to 8) or 3; "" when none is that close.
inline std::string did_you_mean(std::string_view word, const std::vector<std::string>& names) {
  const size_t limit = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
  const std::string* best = nullptr;
  size_t best_d = limit + 1;
  for (const std::string& n : names) {
    const size_t d = edit_distance(word, n);
    if (d < best_d && n != word) {
      best = &n;
      best_d = d;
    }
  }
  return best ? "; did you mean \"" + *best + "\"?" : std::string();
}

}  // namespace graphrun
