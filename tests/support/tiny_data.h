// Small generated classification data sets written to files, for the tests that run the
// graphrun binary: 3 classes, class k marked by its own block of bright pixels or features.
#pragma once

#include <cstdint>
#include <fstream>
#include <random>
#include <string>

#include "tests/support/process_util.h"

namespace graphrun::testing {

// n 4x4 IDX images with labels, in <stem>-images.idx and <stem>-labels.idx; class k lights up
// rows k and k+1 (plus noise).
inline void write_idx_classes(const std::string& stem, int n, uint32_t seed) {
  std::string images = {0, 0, 8, 3};
  auto be32 = [](std::string& s, uint32_t v) {
    for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  be32(images, static_cast<uint32_t>(n));
  be32(images, 4);
  be32(images, 4);
  std::string labels = {0, 0, 8, 1};
  be32(labels, static_cast<uint32_t>(n));
  uint32_t state = seed * 2654435761u + 1;
  auto rnd = [&]() { return (state = state * 1664525u + 1013904223u) >> 24; };
  for (int i = 0; i < n; ++i) {
    const int k = i % 3;
    labels.push_back(static_cast<char>(k));
    for (int p = 0; p < 16; ++p) {
      const int row = p / 4;
      images.push_back(static_cast<char>((row == k || row == k + 1) ? 160 + rnd() % 96 : rnd() % 64));
    }
  }
  write_file(stem + "-images.idx", images);
  write_file(stem + "-labels.idx", labels);
}

// The shape of a generated CSV: label first, then `features` values; feature j of a class-k row
// is 0.7 when j / group == k, else `low`, plus uniform noise in [0, 0.3).
struct CsvClasses {
  int features = 48;
  int group = 16;
  double low = 0.2;
};

// n rows; row `huge` (if >= 0) has every feature 3.4e38 (finite, so the loader takes it).
inline void write_csv_classes(const std::string& path, int n, uint32_t seed, CsvClasses c = {}, int huge = -1) {
  std::ofstream csv(path);
  std::mt19937 rng(seed);
  for (int i = 0; i < n; ++i) {
    const int k = i % 3;
    csv << k;
    for (int j = 0; j < c.features; ++j) {
      if (i == huge)
        csv << ",3.4e38";
      else
        csv << "," << ((j / c.group == k) ? 0.7 : c.low) + 0.3 * (rng() % 1000) / 1000.0;
    }
    csv << "\n";
  }
}

}  // namespace graphrun::testing
