# Warnings, sanitizers and fuzzing instrumentation for every fogm2m target.
add_library(fogm2m_flags INTERFACE)
target_compile_options(fogm2m_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives through std::variant/std::optional moves
  # (GCC bug 105562 and relatives); clang's build keeps the check meaningful.
  target_compile_options(fogm2m_flags INTERFACE -Wno-maybe-uninitialized)
  if(FOGM2M_UNITY_BUILD)
    # In a batch every .cc is an included file, so a class of a header whose
    # Impl keeps its file's anonymous-namespace types is reported as if the
    # header did it; each .cc still stands alone in the non-unity build.
    target_compile_options(fogm2m_flags INTERFACE -Wno-subobject-linkage)
  endif()
endif()
if(FOGM2M_WERROR)
  target_compile_options(fogm2m_flags INTERFACE -Werror)
endif()

if(FOGM2M_SANITIZE)
  set(_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_compile_options(${_san})
  add_link_options(-fsanitize=address,undefined)
endif()

if(FOGM2M_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "FOGM2M_FUZZ needs clang: cmake -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang")
  endif()
  # Instrument everything for coverage; only fuzz targets link the libFuzzer main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
