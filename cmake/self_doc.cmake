# cmake -DVOUCH=PATH -DDIR=DIR -P self_doc.cmake: the built vouch writes its
# manual page and shell completions from its own command line definition
# (vouch help --man, --completion): DIR/vouch.1, DIR/vouch.1.gz (gzip -n -9:
# no name or time stamp, the same bytes on every build), DIR/vouch.bash and
# DIR/_vouch (zsh).
file(MAKE_DIRECTORY "${DIR}")
function(run out)
  execute_process(COMMAND "${VOUCH}" ${ARGN} OUTPUT_FILE "${DIR}/${out}.tmp" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${VOUCH} ${ARGN} failed (${rc})")
  endif()
  file(RENAME "${DIR}/${out}.tmp" "${DIR}/${out}")
endfunction()
run(vouch.1 help --man)
run(vouch.bash help --completion bash)
run(_vouch help --completion zsh)
execute_process(COMMAND gzip -n -9 -c "${DIR}/vouch.1" OUTPUT_FILE "${DIR}/vouch.1.gz" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gzip of ${DIR}/vouch.1 failed (${rc})")
endif()
