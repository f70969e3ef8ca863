# Warnings for our own targets only (linked PRIVATE); third-party headers are SYSTEM includes.
add_library(greenfleet_warnings INTERFACE)
target_compile_options(greenfleet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wno-missing-field-initializers
  # GCC 12 reports std::string concatenation inlined at -O2 as overlapping memcpy (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
