# Embeds files into a generated C++ source as a table of {relative name, bytes}: one binary to deploy.
# embed_files(<target> <namespace> <function> <base_dir> <files...>)
set(GREENFLEET_EMBED_SCRIPT "${CMAKE_CURRENT_LIST_DIR}/embed_script.cmake")
function(embed_files target ns fn base_dir)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embedded_${fn}.cpp")
  # The list goes through a file: any separator on the command line would meet a shell.
  set(list_file "${CMAKE_CURRENT_BINARY_DIR}/embed_${fn}.list")
  file(WRITE "${list_file}" "${ARGN}")
  add_custom_command(OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} "-DLIST_FILE=${list_file}" "-DOUT=${out}" "-DNS=${ns}" "-DFN=${fn}"
            "-DBASE=${base_dir}" -P "${GREENFLEET_EMBED_SCRIPT}"
    DEPENDS ${ARGN} "${GREENFLEET_EMBED_SCRIPT}" "${list_file}"
    COMMENT "Embedding ${fn}")
  target_sources(${target} PRIVATE "${out}")
endfunction()
