# Builds the tpufleet wheel from the staging tree STAGE into DIST and installs it into the
# virtual environment VENV (created with --system-site-packages when missing).
# cmake -DPYTHON=/usr/bin/python3 -DSTAGE=... -DDIST=... -DVENV=... -P install_wheel.cmake
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${command}")
  endif()
endfunction()

file(REMOVE_RECURSE ${DIST} ${STAGE}/build)
file(GLOB egg_info ${STAGE}/*.egg-info)
if(egg_info)
  file(REMOVE_RECURSE ${egg_info})
endif()
run(${PYTHON} -m build --no-isolation --outdir ${DIST} ${STAGE})
file(GLOB wheel ${DIST}/tpufleet-*.whl)
if(NOT EXISTS ${VENV}/bin/python)
  run(${PYTHON} -m venv --system-site-packages ${VENV})
endif()
run(${VENV}/bin/python -m pip install --quiet --no-deps --no-index --force-reinstall ${wheel})
message(STATUS "installed ${wheel} into ${VENV}")
