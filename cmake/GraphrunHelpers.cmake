# Helper functions shared by every folder of graphrun.

# Warnings are errors in graphrun's own code (not in third-party headers, which are SYSTEM).
function(graphrun_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(GRAPHRUN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# graphrun_add_library(name SOURCES ... [DEPS ...])
# A static layer library (position independent, so it can go into libgraphrun.so),
# with the alias graphrun::<name>. DEPS are linked PUBLIC.
function(graphrun_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  add_library(graphrun::${name} ALIAS ${name})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/plugins/include>)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  graphrun_warnings(${name})
endfunction()

# Test code builds many command lines as `"literal" + std::string&&`, where GCC 12 at -O3 reports
# a false -Wrestrict (GCC bug 105329).
function(graphrun_test_warnings target)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
endfunction()

# graphrun_add_test(name SOURCES ... [DEPS ...])
# A GoogleTest binary; each TEST becomes one ctest test.
function(graphrun_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})  # tests/support/ helpers
  target_compile_definitions(${name} PRIVATE
    GRAPHRUN_PLUGIN_BUILD_DIR="${GRAPHRUN_PLUGIN_BUILD_DIR}"
    GRAPHRUN_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    GRAPHRUN_BINARY_DIR="${PROJECT_BINARY_DIR}")
  graphrun_warnings(${name})
  graphrun_test_warnings(${name})
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "GRAPHRUN_PLUGIN_PATH=${GRAPHRUN_PLUGIN_BUILD_DIR}")
endfunction()

# graphrun_add_builtin_plugin(name SOURCES ...)
# A built-in plugin: a loadable module named <name>.so in the build tree's plugin folder,
# seeing only the ABI header (and Highway for its kernels).
function(graphrun_add_builtin_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${GRAPHRUN_PLUGIN_BUILD_DIR})
  target_link_libraries(${name} PRIVATE graphrun_plugin_abi ${ARG_DEPS})
  graphrun_warnings(${name})
  install(TARGETS ${name} LIBRARY DESTINATION ${GRAPHRUN_PLUGIN_INSTALL_DIR})
  # graphrun_plugins builds every built-in plugin; the library depends on it, so whatever
  # links graphrun finds its plugins in the build tree.
  if(NOT TARGET graphrun_plugins)
    add_custom_target(graphrun_plugins)
  endif()
  add_dependencies(graphrun_plugins ${name})
endfunction()
