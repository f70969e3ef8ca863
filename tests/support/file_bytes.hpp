#pragma once
// The whole content of a file as bytes ("" when it cannot be read): tests grep database files.

#include <fstream>
#include <sstream>
#include <string>

namespace greenfleet::testing {

inline std::string fileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace greenfleet::testing
