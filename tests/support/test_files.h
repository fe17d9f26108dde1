// Helpers for tests that write files and check what vouch found in them;
// nothing here needs PostgreSQL (target vouch_test_files, header only).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace vouch::testing {

// Writes `bytes` as the whole of a new file at `path`, creating the
// directories above it. A file already there is removed first, never
// written into: a copy of a backup made with hard links shares its files
// with the original, which must stay intact.
inline void WriteFile(const std::string& path, const std::string& bytes) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  std::filesystem::remove(path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace vouch::testing
