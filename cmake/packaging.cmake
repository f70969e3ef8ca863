# `cmake --install` and the .deb (scripts/package, CPack): the binary, the config as
# /etc/greenfleet/greenfleet.properties (a conffile, data.dir pointing at /var/lib/greenfleet),
# the systemd unit and its system user, the health-sweep script and cron example, the Grafana
# dashboard and the docs. The database itself is never packaged: the service creates it.
include(GNUInstallDirs)
# `install` and CPack take what is built: scripts/package builds the binary alone, and the test
# suite's package test must not rebuild the test binaries behind ctest's back.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# The shipped config is the checkout's, with the data directory the unit's StateDirectory.
file(READ ${CMAKE_CURRENT_SOURCE_DIR}/etc/greenfleet.properties GREENFLEET_PROPERTIES)
string(REGEX REPLACE "\ndata\\.dir = [^\n]*" "\ndata.dir = /var/lib/greenfleet"
       GREENFLEET_INSTALLED_PROPERTIES "${GREENFLEET_PROPERTIES}")
if(GREENFLEET_INSTALLED_PROPERTIES STREQUAL GREENFLEET_PROPERTIES)
  message(FATAL_ERROR "etc/greenfleet.properties has no `data.dir = ...` line to rewrite")
endif()
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/packaging/greenfleet.properties
     "${GREENFLEET_INSTALLED_PROPERTIES}")

install(TARGETS greenfleet RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# /etc whatever the prefix: the unit and the sweep wrapper look for the config there.
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/packaging/greenfleet.properties DESTINATION /etc/greenfleet)
install(FILES etc/systemd/greenfleet.service DESTINATION lib/systemd/system)
install(FILES etc/systemd/greenfleet.sysusers DESTINATION lib/sysusers.d RENAME greenfleet.conf)
install(PROGRAMS scripts/health-sweep DESTINATION lib/greenfleet)
install(FILES etc/grafana/greenfleet.json DESTINATION ${CMAKE_INSTALL_DATADIR}/greenfleet/grafana)
install(FILES etc/prometheus/greenfleet-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/greenfleet/prometheus)
install(FILES etc/cron.d/greenfleet
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/cron.d)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md"
        PATTERN screenshots EXCLUDE)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME greenfleet)
set(CPACK_PACKAGE_VENDOR greenfleet)
set(CPACK_PACKAGE_CONTACT "greenfleet maintainers <greenfleet@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Fleet monitor for WhatsApp accounts on Green API: who needs a QR scan, and the QR")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Runtime libraries (Poco, SQLite, curl, qrencode, png, prometheus-cpp, fmt, systemd) found by
# dpkg-shlibdeps from the binary itself, so the list never drifts from what is linked.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_CURRENT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
