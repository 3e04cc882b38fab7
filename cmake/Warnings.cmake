# Warnings for our targets only (third-party headers are included as system headers).
function(msgin5g_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wnon-virtual-dtor -Wno-missing-field-initializers)
  if(MSGIN5G_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
