# cmake/require_package.cmake — find a dependency or stop with the Debian 12 package(s) that provide it.
#
# CMake's own error for a missing dependency names its CMake module ("Could NOT find OpenCL (missing:
# OpenCL_LIBRARY ...)"), and a person on a fresh machine then has to guess the package. These wrappers look the
# dependency up without REQUIRED and, when it is absent, fail with the apt-get line that fixes it.
# scripts/setup.sh installs every one of these packages; keep its lists and these names in step.

# accent_find_package(<Name> "<debian packages>" [find_package arguments...]) — find_package(<Name> ...), and
# FATAL_ERROR naming the packages when <Name>_FOUND is false. REQUIRED among the arguments is accepted and dropped:
# with it, find_package itself would stop first, with its own message. A macro, so that the variables
# find_package sets (<Name>_FOUND, <Name>_VERSION, ...) land in the caller's scope.
macro(accent_find_package accent_fp_name accent_fp_debian)
  set(accent_fp_args ${ARGN})
  list(REMOVE_ITEM accent_fp_args REQUIRED)
  find_package(${accent_fp_name} ${accent_fp_args})
  if(NOT ${accent_fp_name}_FOUND)
    accent_missing_package("${accent_fp_name}" "${accent_fp_debian}")
  endif()
endmacro()

# accent_pkg_check_modules(<PREFIX> <pkg-config module> "<debian packages>") — pkg_check_modules(<PREFIX>
# IMPORTED_TARGET <module>) (target PkgConfig::<PREFIX>), and FATAL_ERROR naming the packages when it is absent.
macro(accent_pkg_check_modules accent_pc_prefix accent_pc_module accent_pc_debian)
  pkg_check_modules(${accent_pc_prefix} IMPORTED_TARGET ${accent_pc_module})
  if(NOT ${accent_pc_prefix}_FOUND)
    accent_missing_package("${accent_pc_module} (pkg-config)" "${accent_pc_debian}")
  endif()
endmacro()

function(accent_missing_package what debian)
  message(FATAL_ERROR
    "accent needs ${what}, which was not found.\n"
    "On Debian 12 install: ${debian}\n"
    "  sudo apt-get install --no-install-recommends ${debian}\n"
    "(bash scripts/setup.sh installs everything the build and the demo need; --tests adds what the tests need.)")
endfunction()
