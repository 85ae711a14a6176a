# The CMake package (find_package(tpufleet) -> tpufleet::tpufleet) and the pkg-config file that
# `cmake --install` puts beside the library, headers and executables (rules in src/).
include(CMakePackageConfigHelpers)

set(TPUFLEET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tpufleet)
install(EXPORT tpufleetTargets NAMESPACE tpufleet:: DESTINATION ${TPUFLEET_CMAKE_DIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/tpufleetConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/tpufleetConfig.cmake
  INSTALL_DESTINATION ${TPUFLEET_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_BINDIR)
# Before 1.0 a minor version may change the API: only the same minor version is compatible.
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/tpufleetConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/tpufleetConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/tpufleetConfigVersion.cmake
        DESTINATION ${TPUFLEET_CMAKE_DIR})

# pkg-config, relocatable: the prefix is found from where the .pc file lies (${pcfiledir}), so an
# install with --prefix or DESTDIR anywhere stays right.
set(TPUFLEET_PKGCONFIG_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH TPUFLEET_PC_TO_PREFIX /root/${TPUFLEET_PKGCONFIG_DIR} /root)
configure_file(${PROJECT_SOURCE_DIR}/cmake/tpufleet.pc.in ${PROJECT_BINARY_DIR}/cmake/tpufleet.pc
               @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/cmake/tpufleet.pc DESTINATION ${TPUFLEET_PKGCONFIG_DIR})
