#!/usr/bin/env bash
# The project's GPU checks in one call on the lent GPU machine, without TensorFlow.
#
# That machine has Python 3.12 with JAX and CUDA, but no TensorFlow, no Keras and no package
# index, and a session gets 15 minutes of it. TensorFlow travels there only in six 60 MB parts,
# one device call each (../shared/gpu/prepare.sh). These checks need none of it: the
# recurrent cells, attention, positions and Transformer blocks, tests/test_gpu.py and chapter
# 6's speed table (python -m nlpbook bench rnn) use keras.ops alone, and no data set.
#
#   here:  bash gpu/check.sh prepare   Keras and the two wheels it needs that the GPU machine
#                                      lacks (namex, optree), for Python 3.12, into .gpu/light
#                                      (ignored by git); prints the device call
#   there: bash gpu/check.sh run       installs them into /tmp/site, then on KERAS_BACKEND=jax:
#                                      pytest (GPU tests, layer reference tests, benchmark tests)
#                                      and the speed table at chapter 6's full-mode sizes and at
#                                      4x the sequence length. Writes into $OUT (results/gpu-check
#                                      elsewhere): gpu-check.log, pytest.xml, rnn-speed.json,
#                                      rnn-speed-400.json. Exits with pytest's status.
#
# "run" works on any machine where Keras imports (then .gpu/light is not needed); on a CPU the
# GPU-marked tests skip.
set -uo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}

case "${1:-}" in
prepare)
  set -e
  [ -n "${PYTHON:-}" ] || { [ -x .venv/bin/python ] && py=.venv/bin/python; }
  mkdir -p .git/info
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
  keras_v=$("$py" -c "import importlib.metadata as m; print(m.version('keras'))")
  rm -rf .gpu/light && mkdir -p .gpu/light
  "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/light \
    "keras==$keras_v" namex optree
  ls -la .gpu/light
  echo
  echo 'device call: run(command="bash gpu/check.sh run", carry=[".gpu/light"], timeout_s=420)'
  ;;
run)
  out=${OUT:-results/gpu-check}
  mkdir -p "$out"
  if compgen -G ".gpu/light/*.whl" >/dev/null; then
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .gpu/light/*.whl || exit 1
    export PYTHONPATH="/tmp/site:$PWD/lib"
  else
    export PYTHONPATH="$PWD/lib${PYTHONPATH:+:$PYTHONPATH}"
  fi
  export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1
  {
    command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    "$py" -m nlpbook info
    "$py" -m pytest tests/test_gpu.py tests/layers tests/test_benchmark.py -p no:cacheprovider \
      -q -rs --junitxml "$out/pytest.xml"
    echo "pytest exit status $?" >"$out/.status"
    # chapter 6's full-mode sizes, then 4x the steps: ours pays a fixed cost per step
    "$py" -m nlpbook bench rnn --json "$out/rnn-speed.json"
    "$py" -m nlpbook bench rnn --steps 400 --json "$out/rnn-speed-400.json"
  } 2>&1 | tee "$out/gpu-check.log"
  status=$(sed 's/.* //' "$out/.status" 2>/dev/null || echo 1)
  rm -f "$out/.status"
  exit "$status"
  ;;
*)
  echo "usage: bash gpu/check.sh prepare|run" >&2
  exit 2
  ;;
esac
