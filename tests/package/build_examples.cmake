# Installs the build tree into a fresh prefix and builds examples/ against it as an outside
# project would: find_package(tpufleet) through CMAKE_PREFIX_PATH, only the installed headers on
# the include path, and a program built from the pkg-config file too.
#   cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -DCXX=...
#         [-DLAUNCHER=...] [-DCXX_FLAGS=...] [-DLINK_FLAGS=...] -P build_examples.cmake
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT code EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "${command}\nfailed (${code}):\n${out}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(installed bin/tpufleet bin/tpufleet-device-host include/tpufleet/fleet.h)
  if(NOT EXISTS ${prefix}/${installed})
    message(FATAL_ERROR "cmake --install did not install ${installed} into ${prefix}")
  endif()
endforeach()
file(GLOB_RECURSE config ${prefix}/*/tpufleetConfig.cmake)
file(GLOB_RECURSE pc_file ${prefix}/*/tpufleet.pc)
if(NOT config OR NOT pc_file)
  message(FATAL_ERROR "no CMake package or pkg-config file under ${prefix}")
endif()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/examples -B ${build} -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER} "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINK_FLAGS}" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
# The consumer sees the installed headers only: nothing from the source tree.
file(READ ${build}/compile_commands.json commands)
string(FIND "${commands}" "${SOURCE_DIR}/src" src_seen)
string(FIND "${commands}" "${SOURCE_DIR}/include" include_seen)
if(NOT src_seen EQUAL -1 OR NOT include_seen EQUAL -1)
  message(FATAL_ERROR "the examples' include path reaches into ${SOURCE_DIR}:\n${commands}")
endif()
run(${CMAKE_COMMAND} --build ${build} -j2)

# pkg-config: the relocated prefix, one example compiled and linked with its flags.
find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  get_filename_component(pc_dir ${pc_file} DIRECTORY)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  execute_process(COMMAND ${PKG_CONFIG} --cflags --libs tpufleet RESULT_VARIABLE code
                  OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REGEX MATCH "-I([^ ]+)" include_flag "${flags}")
  file(REAL_PATH "${CMAKE_MATCH_1}" include_dir)
  file(REAL_PATH "${prefix}/include" installed_include)
  if(NOT code EQUAL 0 OR NOT include_dir STREQUAL installed_include)
    message(FATAL_ERROR "pkg-config --cflags --libs tpufleet gave '${flags}' (${code}); "
                        "expected -I${installed_include}")
  endif()
  execute_process(COMMAND ${PKG_CONFIG} --variable=libdir tpufleet OUTPUT_VARIABLE libdir
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(extra UNIX_COMMAND "${CXX_FLAGS} ${LINK_FLAGS}")
  run(${CXX} -std=c++20 ${extra} ${SOURCE_DIR}/examples/fleet_placement.cc ${flags}
      -Wl,-rpath,${libdir} -o ${build}/fleet_placement_pkgconfig)
endif()
