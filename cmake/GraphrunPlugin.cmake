# graphrun_add_plugin(<name> SOURCES <files...> [INSTALL_DIR <dir>] [OUTPUT_DIR <dir>] [LINK <targets...>])
#
# Builds a graphrun plugin: a loadable module <name>.so (no "lib" prefix, hidden visibility:
# only graphrun_plugin_abi_version and graphrun_plugin_init are exported), compiled against
# the plugin ABI header and nothing else of graphrun (a plugin never links libgraphrun).
#
# Works in three settings:
#   * after find_package(graphrun): the imported target graphrun::plugin_abi is used;
#   * inside graphrun's own build: the target graphrun_plugin_abi is used;
#   * standalone (include() this file directly): set GRAPHRUN_PLUGIN_INCLUDE_DIR to the folder
#     holding graphrun/plugin.h (defaults to ../../../include relative to this file, i.e. the
#     include dir of the install prefix it sits in).
#
# OUTPUT_DIR: where the built module lands (default: the current binary dir). Point
#   GRAPHRUN_PLUGIN_PATH or --plugin-dir there to use it without installing.
# INSTALL_DIR: install(TARGETS) destination (default: ${CMAKE_INSTALL_LIBDIR}/graphrun/plugins,
#   the folder graphrun searches in its own install prefix; use an absolute path for another
#   prefix's folder). Pass INSTALL_DIR "" to skip the install rule.
# LINK: further libraries the plugin needs (e.g. hwy::hwy); linked PRIVATE.
include_guard(GLOBAL)
include(GNUInstallDirs)

set(_graphrun_plugin_cmake_dir "${CMAKE_CURRENT_LIST_DIR}")

function(graphrun_add_plugin name)
  cmake_parse_arguments(ARG "" "INSTALL_DIR;OUTPUT_DIR" "SOURCES;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "graphrun_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIR}")
  endif()

  if(TARGET graphrun::plugin_abi)
    target_link_libraries(${name} PRIVATE graphrun::plugin_abi)
  elseif(TARGET graphrun_plugin_abi)
    target_link_libraries(${name} PRIVATE graphrun_plugin_abi)
  else()
    if(NOT GRAPHRUN_PLUGIN_INCLUDE_DIR)
      get_filename_component(GRAPHRUN_PLUGIN_INCLUDE_DIR "${_graphrun_plugin_cmake_dir}/../../../include" ABSOLUTE)
    endif()
    if(NOT EXISTS "${GRAPHRUN_PLUGIN_INCLUDE_DIR}/graphrun/plugin.h")
      message(FATAL_ERROR "graphrun_add_plugin(${name}): graphrun/plugin.h not found in "
                          "'${GRAPHRUN_PLUGIN_INCLUDE_DIR}'; set GRAPHRUN_PLUGIN_INCLUDE_DIR or find_package(graphrun)")
    endif()
    target_include_directories(${name} PRIVATE "${GRAPHRUN_PLUGIN_INCLUDE_DIR}")
  endif()
  if(ARG_LINK)
    target_link_libraries(${name} PRIVATE ${ARG_LINK})
  endif()
  # A plugin must not leave undefined symbols for the host to satisfy: fail at link time.
  target_link_options(${name} PRIVATE -Wl,--no-undefined)

  if(NOT DEFINED ARG_INSTALL_DIR)
    set(ARG_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/graphrun/plugins")
  endif()
  if(NOT ARG_INSTALL_DIR STREQUAL "")
    install(TARGETS ${name} LIBRARY DESTINATION "${ARG_INSTALL_DIR}")
  endif()
endfunction()
