// io/httplib_build.h — include cpp-httplib the way Debian's libcpp-httplib.so was compiled.
//
// Debian 12 ships cpp-httplib 0.11 split into a header of declarations and libcpp-httplib.so, built with
// OpenSSL, zlib and brotli support (see `pkg-config --cflags cpp-httplib`). Class layouts in the header depend on
// these macros, so every translation unit that includes <httplib.h> must define the same ones — include this header
// instead of <httplib.h>. Link with -lcpp-httplib (pkg-config cpp-httplib). HTTPS therefore works (system CA store).
#pragma once

#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <httplib.h>
