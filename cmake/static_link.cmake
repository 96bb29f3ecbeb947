# vmscan_link_static_deps(TARGET ROOT): links executable TARGET with library ROOT of this project
# and everything ROOT depends on, taking each system library as its static archive: libstdc++ and
# libgcc statically too, unused sections dropped, glibc (libc, libm, libdl, librt, libpthread)
# shared, since NSS and dlopen need the machine's own.
#
# Why: vmscan-agent runs in every VM, and its resident memory is mostly the pages of its shared
# libraries it touches; a static link maps only the code it uses (BENCHMARKS.md, agent memory).
#
# How: the libraries of this project ROOT reaches (through INTERFACE_LINK_LIBRARIES) are linked
# by file, without their usage requirements, so that none of the shared system libraries they
# name reaches the link line. Each imported target among them is mapped to the pkg-config module
# that describes it (_vmscan_imported_modules below; absl::NAME is absl_NAME); `pkg-config --static`
# then lists every archive those need, and find_library picks each one's lib<NAME>.a. An
# imported target with no module mapped, or a library without a static archive, is a configure
# error naming it, so a new dependency cannot quietly come in as a shared library.
include_guard(GLOBAL)
find_package(PkgConfig REQUIRED)

# Imported targets → pkg-config modules, for the imported targets that are not absl::NAME.
# Threads::Threads is -pthread, which stays as it is.
set(_vmscan_imported_modules
  "gRPC::grpc++=grpc++" "gRPC::grpc=grpc" "protobuf::libprotobuf=protobuf"
  "OpenSSL::SSL=openssl" "OpenSSL::Crypto=libcrypto" "yaml-cpp=yaml-cpp"
  "PkgConfig::MILTER=milter" "PkgConfig::ZSTD=libzstd")
# Libraries that stay shared: glibc's, and what the compiler links itself.
set(_vmscan_shared_system_libs c m dl rt pthread atomic gcc gcc_s stdc++)

function(vmscan_link_static_deps target root)
  set(queue ${root})
  set(seen "")
  set(archives "")
  set(internal "")
  set(modules "")
  while(queue)
    list(POP_FRONT queue item)
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" item "${item}")
    if(item IN_LIST seen OR item STREQUAL "Threads::Threads")
      continue()
    endif()
    list(APPEND seen "${item}")
    if(NOT TARGET "${item}")
      message(FATAL_ERROR "vmscan_link_static_deps(${target}): '${item}' is not a target; "
                          "link it through an imported target")
    endif()
    get_target_property(imported "${item}" IMPORTED)
    if(imported)
      if(item MATCHES "^absl::(.+)$")
        list(APPEND modules "absl_${CMAKE_MATCH_1}")
        continue()
      endif()
      set(module "")
      foreach(pair IN LISTS _vmscan_imported_modules)
        if(pair MATCHES "^(.+)=(.+)$" AND CMAKE_MATCH_1 STREQUAL item)
          set(module "${CMAKE_MATCH_2}")
        endif()
      endforeach()
      if(module STREQUAL "")
        message(FATAL_ERROR "vmscan_link_static_deps(${target}): no pkg-config module known for "
                            "'${item}'; add it to cmake/static_link.cmake")
      endif()
      list(APPEND modules "${module}")
      continue()
    endif()
    get_target_property(type "${item}" TYPE)
    if(type STREQUAL "STATIC_LIBRARY")
      list(APPEND archives "$<TARGET_FILE:${item}>")
      list(APPEND internal "${item}")
    endif()
    get_target_property(deps "${item}" INTERFACE_LINK_LIBRARIES)
    if(deps)
      list(APPEND queue ${deps})
    endif()
  endwhile()

  list(REMOVE_DUPLICATES modules)
  list(JOIN modules " " module_list)
  string(MAKE_C_IDENTIFIER "VMSCAN_STATIC_${target}" prefix)
  pkg_check_modules(${prefix} REQUIRED QUIET ${modules})
  set(system_archives "")
  set(system_shared "")
  foreach(name IN LISTS ${prefix}_STATIC_LIBRARIES)
    if(name IN_LIST _vmscan_shared_system_libs)
      list(APPEND system_shared "-l${name}")
      continue()
    endif()
    find_library(VMSCAN_ARCHIVE_${name} NAMES "lib${name}.a" NO_CACHE)
    if(NOT VMSCAN_ARCHIVE_${name})
      message(FATAL_ERROR "vmscan_link_static_deps(${target}): no static archive lib${name}.a "
                          "(from pkg-config --static ${module_list})")
    endif()
    list(APPEND system_archives "${VMSCAN_ARCHIVE_${name}}")
  endforeach()
  list(REMOVE_DUPLICATES system_archives)
  list(REMOVE_DUPLICATES system_shared)

  # One group: archives that need each other are searched until nothing is left undefined.
  target_link_libraries(${target} PRIVATE
    "-Wl,--start-group" ${archives} ${system_archives} "-Wl,--end-group" ${system_shared})
  target_link_options(${target} PRIVATE
    -static-libstdc++ -static-libgcc -pthread -Wl,--gc-sections -Wl,-z,pack-relative-relocs)
  add_dependencies(${target} ${internal})
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${archives})
  list(LENGTH internal internal_count)
  list(LENGTH system_archives system_count)
  message(STATUS "${target}: static link of ${internal_count} project libraries and "
                 "${system_count} system archives (pkg-config --static ${module_list})")
endfunction()
