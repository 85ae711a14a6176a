# The Debian package (`cpack -G DEB` in the build folder): the executables, the library with its
# headers and CMake package, and the service files of deploy/: the systemd unit, the udev rules
# for the Edge TPUs, the default settings (a conffile) and the nginx example. The service files
# go to absolute system paths, so they are in a component of their own that a plain
# `cmake --install --prefix DIR` leaves out.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/tpufleet.service
        DESTINATION /lib/systemd/system COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/udev/60-tpufleet.rules
        DESTINATION /lib/udev/rules.d COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/tpufleet.default
        DESTINATION /etc/default RENAME tpufleet COMPONENT service EXCLUDE_FROM_ALL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/nginx ${PROJECT_SOURCE_DIR}/deploy/kubernetes
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/docs/serving.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT service EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tpufleet)
set(CPACK_PACKAGE_CONTACT "tpufleet maintainers <tpufleet@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Runs many TensorFlow Lite models on many Coral Edge TPUs, simulated Edge TPUs and the CPU")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL Unspecified service)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
