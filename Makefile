# ext4guard: the two commands a newcomer needs are `make demo` and `make test`.
# Both install what is missing first (tools/setup.sh: apt packages, .venv, npm compiler).

VENV   ?= .venv
PY     := $(VENV)/bin/python
DEMO   ?= ext4_default
BUILD  := build

.PHONY: setup demo test lint typecheck pytest ksy seeds seeds-check bench clean

setup:
	@bash tools/setup.sh

$(BUILD)/%.img: corpus/seeds/%.img.xz
	@mkdir -p $(BUILD)
	xz -dkc $< > $@

demo: setup $(BUILD)/$(DEMO).img
	$(VENV)/bin/ext4guard info $(BUILD)/$(DEMO).img
	$(VENV)/bin/ext4guard check $(BUILD)/$(DEMO).img
	$(VENV)/bin/ext4guard ls $(BUILD)/$(DEMO).img /
	$(VENV)/bin/ext4guard sandbox-check | tail -n 1
	@mkdir -p $(BUILD)/mnt
	$(VENV)/bin/ext4guard mount $(BUILD)/$(DEMO).img $(BUILD)/mnt
	ls -la $(BUILD)/mnt; status=$$?; $(VENV)/bin/ext4guard umount $(BUILD)/mnt; exit $$status
	$(VENV)/bin/ext4guard fuzz --plain --time 30

test: setup lint typecheck pytest

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check parser server fuzz tests corpus

# mypy resolves ext4guard.* through a link farm: the import packages map onto top-level
# folders, which the editable install's import hook knows about but mypy does not.
typecheck:
	@mkdir -p $(BUILD)/typecheck/ext4guard
	@for pkg in parser server fuzz; do ln -sfn ../../../$$pkg $(BUILD)/typecheck/ext4guard/$$pkg; done
	cd $(BUILD)/typecheck && ../../$(VENV)/bin/mypy --config-file ../../pyproject.toml \
		-p ext4guard.parser -p ext4guard.server -p ext4guard.fuzz

pytest:
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Regenerate parser/_ksy from ksy/*.ksy with the pinned compiler (commit both).
ksy: setup
	node ksy/compile.js parser/_ksy

# Speed and memory: the parser against dissect.extfs, PyPI ext4 and debugfs; the mount
# against the kernel's loop mount and fuse2fs (bench/README.md).
bench: setup
	$(VENV)/bin/pip install -q -c constraints.txt dissect.extfs==3.15 cachetools==7.1.1 crcmod==1.7
	$(VENV)/bin/pip install -q --no-deps ext4==1.4.1
	command -v fuse2fs >/dev/null || apt-get install -y -qq --no-install-recommends fuse2fs
	python3 bench/build_images.py $(BUILD)/bench
	$(PY) bench/bench_parser.py $(BUILD)/bench
	$(PY) bench/bench_mount.py $(BUILD)/bench

seeds:
	python3 corpus/build_seeds.py

seeds-check:
	python3 corpus/build_seeds.py --check

clean:
	rm -rf $(BUILD) .pytest_cache .mypy_cache .ruff_cache
