# Every dependency is a Debian 12 package (scripts/install-deps.sh installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(Boost 1.81 REQUIRED COMPONENTS json system)
# libcoap-3-openssl does DTLS with OpenSSL; we read the negotiated cipher suite
# from OpenSSL directly (libssl-dev comes with libcoap3-dev).
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(LIBCOAP REQUIRED IMPORTED_TARGET libcoap-3-openssl>=4.3.1)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis>=0.14)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(Protobuf REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(yaml-cpp REQUIRED)
if(FOGM2M_TESTS)
  find_package(GTest REQUIRED)
endif()
if(FOGM2M_BENCH)
  find_package(benchmark REQUIRED)
endif()
