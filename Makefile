# Two commands do everything: `make render conf=NAME` and `make test`.
# Each creates .venv and installs the project on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
conf ?= smoke
ARGS ?=
N ?= 4
LAUNCHER ?= joblib

# Settings go in ARGS; any other variable on make's command line would be ignored silently, so it is refused.
KNOWN_VARIABLES := conf ARGS N LAUNCHER PYTHON
UNKNOWN_VARIABLES := $(strip $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(if $(filter $(v),$(KNOWN_VARIABLES)),,$(v)))))
ifneq ($(UNKNOWN_VARIABLES),)
$(info make: $(foreach v,$(UNKNOWN_VARIABLES),'$(v)=$($(v))') $(if $(word 2,$(UNKNOWN_VARIABLES)),are not variables,is not a variable) of this Makefile (it knows $(KNOWN_VARIABLES)), so nothing was run. Settings of the render go inside ARGS, in quotes: make $(or $(firstword $(MAKECMDGOALS)),render)$(if $(filter command line,$(origin conf)), conf=$(conf)) ARGS="$(strip $(ARGS) $(foreach v,$(UNKNOWN_VARIABLES),$(v)=$($(v))))")
$(error unknown variables on the command line)
endif

.PHONY: help render live segments join test test-fast bench bench-gpu gallery quality lint clean-venv

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

render: $(STAMP)  ## render a preset: make render conf=zoom_places ARGS="frames=120"
	$(BIN)/python -m render --config-name $(conf) $(ARGS)

live: $(STAMP)  ## endless live stream of a preset, page at http://127.0.0.1:8000/: make live conf=zoom_places
	$(BIN)/python -m render --config-name $(conf) live.enabled=true frames=null $(ARGS)

segments: $(STAMP)  ## video dream in N segments on parallel jobs: make segments ARGS="input=clip.mp4" N=4 LAUNCHER=joblib
	$(BIN)/python -m render -m --config-name video_dream segment.count=$(N) 'segment.index=range($(N))' hydra/launcher=$(LAUNCHER) $(ARGS)

join: $(STAMP)  ## join a segmented video dream's sweep folder: make join ARGS=outputs/video_dream-sweep/<time>
	$(BIN)/python -m render.join $(ARGS)

test: $(STAMP)  ## run the whole test suite (what CI runs)
	$(BIN)/python -m pytest -q $(ARGS)

test-fast: $(STAMP)  ## run the tests not marked slow
	$(BIN)/python -m pytest -q -m "not slow" $(ARGS)

bench: $(STAMP)  ## CPU benchmark: GFLOP/s vs matmul, overhead, memory, drift, video, old vs new defaults (ARGS="--only defaults")
	$(BIN)/python -m render.tools.bench $(ARGS)

bench-gpu: $(STAMP)  ## GPU benchmark: speed options and the presets as users run them (needs CUDA)
	$(BIN)/python -m render.tools.bench_gpu $(ARGS)

gallery: $(STAMP)  ## static index.html of run folders: make gallery ARGS="outputs/zoom_places"
	$(BIN)/python -m render.tools.gallery $(ARGS)

quality: $(STAMP)  ## class visualisations (MaCo, Fourier, pixels; one net, ensemble) judged by held-out networks
	$(BIN)/python -m render.tools.quality $(ARGS)

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check dream render tests

clean-venv:  ## remove .venv
	rm -rf $(VENV)
