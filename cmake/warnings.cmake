# Warnings for our own targets only (linked PRIVATE); third-party headers are SYSTEM includes.
add_library(greenfleet_warnings INTERFACE)
target_compile_options(greenfleet_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wno-missing-field-initializers)
