# Warnings for our targets only (third-party headers are included as system headers).
function(msgin5g_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wnon-virtual-dtor
                                           -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wshadow=local)  # GCC's spelling (the fuzz tree is clang)
  endif()
  if(MSGIN5G_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # In a batch every .cc but the first is an included file, and GCC then warns about each class
    # with a member of a type from that file's anonymous namespace: true of the batch, not of the
    # code.
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
  if(MSGIN5G_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
