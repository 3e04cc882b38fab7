# Debian 12 packages only (see scripts/install-deps.sh). Nothing is downloaded at build time.
find_package(Threads REQUIRED)
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(cpp-jwt CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2>=1.52)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
# libcoap 4.3.1, OpenSSL flavour (DTLS); Debian ships no plain libcoap-3.pc.
pkg_check_modules(COAP REQUIRED IMPORTED_TARGET libcoap-3-openssl)
# systemd: sd_notify (READY, STOPPING, WATCHDOG) for Type=notify units.
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
