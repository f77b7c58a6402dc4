# Runs one libFuzzer target for a fixed time as a ctest test (fuzz/CMakeLists.txt, label fuzz).
#   cmake -DFUZZER=exe -DWORK=dir -DARTIFACTS=prefix -DSECONDS=n -DSEEDS=dir|dir -P smoke.cmake
# WORK is emptied first so each run starts from the seeds alone; libFuzzer writes new inputs only
# to its first corpus dir, so the seed folders in the source tree are read, never written.
string(REPLACE "|" ";" seeds "${SEEDS}")
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")
get_filename_component(artifact_dir "${ARTIFACTS}" DIRECTORY)
file(MAKE_DIRECTORY "${artifact_dir}")
# -rss_limit_mb: a parser that allocates by a size read from the file is a finding.
# -timeout: a parser that loops on some input is a finding.
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -rss_limit_mb=1024 -timeout=30 -max_len=65536
          -artifact_prefix=${ARTIFACTS} -print_final_stats=1 "${WORK}" ${seeds}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} exited with ${result}; the input is under ${ARTIFACTS}*")
endif()
