# Runs one example and passes when it exits 0 and its output matches EXPECT (a regex).
#   cmake -DEXPECT=regex -DCOMMAND="program;arg;..." -P run_example.cmake
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT code EQUAL 0)
  message(FATAL_ERROR "exited with ${code}")
endif()
if(NOT out MATCHES "${EXPECT}")
  message(FATAL_ERROR "the output does not match '${EXPECT}'")
endif()
