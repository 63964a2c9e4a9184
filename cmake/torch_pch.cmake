# Two precompiled libtorch headers, and which sources get which. Loading a PCH costs more than
# many files take to compile (on two cores: about 5.7 s for all of torch/torch.h, 656 MB; 2.5 s
# for its tensor part, 439 MB; nothing without one), so each source gets the smallest that
# covers what it reaches through its `#include` lines:
#   none      no libtorch header at all             -> compiled without a PCH
#   tensors   tensors and their ops (torch/types.h, torch/utils.h, ATen/, c10/) -> RELMOE_PCH_TENSORS
#   modules   torch/torch.h, nn, optim, autograd functions, serialization     -> RELMOE_PCH_MODULES
# A wrong guess costs time, never correctness (a file parses what its PCH lacks), so a scan of
# the include lines is enough.
set(RELMOE_PCH_TENSORS <torch/utils.h> <nlohmann/json.hpp>)
set(RELMOE_PCH_MODULES <torch/torch.h> <nlohmann/json.hpp>)

# Sets `result` to 0 (none), 1 (tensors) or 2 (modules) for `file` and the project headers it
# includes (resolved next to the including file, then in src/ and tests/).
function(relmoe_torch_reach file result)
  get_property(known GLOBAL PROPERTY "relmoe_torch_reach:${file}" SET)
  if(known)
    get_property(reach GLOBAL PROPERTY "relmoe_torch_reach:${file}")
    set(${result} ${reach} PARENT_SCOPE)
    return()
  endif()
  set_property(GLOBAL PROPERTY "relmoe_torch_reach:${file}" 0)  # an include cycle ends here
  file(STRINGS ${file} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  get_filename_component(here ${file} DIRECTORY)
  set(reach 0)
  foreach(line IN LISTS includes)
    if(line MATCHES "<torch/(torch|all|nn|optim|autograd|serialize|data|jit)[./]")
      set(reach 2)
      break()
    elseif(line MATCHES "<(torch|ATen|c10)/")
      set(reach 1)
    elseif(line MATCHES "\"([^\"]+)\"")
      foreach(base ${here} ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
        if(EXISTS ${base}/${CMAKE_MATCH_1})
          get_filename_component(header ${base}/${CMAKE_MATCH_1} ABSOLUTE)
          relmoe_torch_reach(${header} header_reach)
          if(header_reach GREATER reach)
            set(reach ${header_reach})
          endif()
          break()
        endif()
      endforeach()
      if(reach EQUAL 2)
        break()
      endif()
    endif()
  endforeach()
  set_property(GLOBAL PROPERTY "relmoe_torch_reach:${file}" ${reach})
  set(${result} ${reach} PARENT_SCOPE)
endfunction()

# Splits `sources` into `tensors_out` (no PCH or the tensors one; those with none are marked to
# skip it) and `modules_out`.
function(relmoe_sort_by_torch_reach tensors_out modules_out)
  set(tensors)
  set(modules)
  foreach(source ${ARGN})
    get_filename_component(path ${source} ABSOLUTE BASE_DIR ${CMAKE_SOURCE_DIR})
    relmoe_torch_reach(${path} reach)
    if(reach EQUAL 2)
      list(APPEND modules ${source})
    else()
      list(APPEND tensors ${source})
      if(reach EQUAL 0)
        set_source_files_properties(${source} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
      endif()
    endif()
  endforeach()
  set(${tensors_out} ${tensors} PARENT_SCOPE)
  set(${modules_out} ${modules} PARENT_SCOPE)
endfunction()

# Adds `sources` to `target`, which has (or reuses) the tensors PCH. Those that reach libtorch's
# modules go into an object library, `target`_modules, that reuses the modules PCH of
# relmoe_core_modules (or makes it, for relmoe_core_modules itself) and is compiled with
# `libraries`' usage requirements; its objects are linked into `target`.
function(relmoe_add_sources target)
  cmake_parse_arguments(arg "" "" "SOURCES;LIBRARIES" ${ARGN})
  relmoe_sort_by_torch_reach(tensors modules ${arg_SOURCES})
  target_sources(${target} PRIVATE ${tensors})
  if(NOT modules)
    return()
  endif()
  add_library(${target}_modules OBJECT ${modules})
  target_link_libraries(${target}_modules PRIVATE ${arg_LIBRARIES})
  if(target STREQUAL relmoe_core)
    target_precompile_headers(${target}_modules PRIVATE ${RELMOE_PCH_MODULES})
    relmoe_pch_checksum(${target}_modules "${RELMOE_PCH_MODULES}")
  else()
    target_precompile_headers(${target}_modules REUSE_FROM relmoe_core_modules)
  endif()
  target_sources(${target} PRIVATE $<TARGET_OBJECTS:${target}_modules>)
endfunction()

# GCC writes a .gch differently in every build, so ccache, which hashes the .gch an object was
# compiled with, would miss in every new clone. It hashes this summary instead
# (pch_external_checksum, whose environment name is CCACHE_PCH_EXTSUM: the compiler launcher sets
# it): what the PCH holds (its headers, the versions of the two libraries they come from) and
# how it is compiled. An object's own command line, which ccache hashes anyway, carries the rest
# of the PCH's flags, so editing CMakeLists.txt does not empty the cache.
function(relmoe_pch_checksum target headers)
  if(NOT RELMOE_CCACHE_PROGRAM)
    return()
  endif()
  string(TOUPPER "${CMAKE_BUILD_TYPE}" build_type)
  string(SHA256 inputs
         "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION} ${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${build_type}} \
sanitize=${RELMOE_SANITIZE} torch=${Torch_VERSION} ${TORCH_CXX_FLAGS} json=${nlohmann_json_VERSION} ${headers}")
  file(WRITE ${CMAKE_BINARY_DIR}/CMakeFiles/${target}.dir/cmake_pch.hxx.gch.sum "${inputs}\n")
endfunction()
