#!/bin/bash -eu
# Build every fuzz target of fuzz/targets/ for ClusterFuzzLite / OSS-Fuzz (run inside the
# base-builder-python image, which provides $SRC, $OUT, atheris and compile_python_fuzzer).
#
# For each target NAME this writes into $OUT:
#   NAME_fuzzer                 the target under atheris (PyInstaller bundle), the parser
#                               instrumented (python -m ext4guard.fuzz.libfuzzer NAME)
#   NAME_fuzzer.options         fuzz/targets/NAME.options (max_len, timeout, rss_limit_mb)
#                               plus the dictionary
#   NAME_fuzzer.dict            corpus/ext4.dict
#   NAME_fuzzer_seed_corpus.zip the target's initial inputs, built from corpus/seeds/
#
# ClusterFuzzLite runs the binaries as they are: its own container is the sandbox there
# (`ext4guard fuzz` adds server/sandbox.py around each worker when run locally).

cd "$SRC/ext4guard"

# Dependencies at the project's pinned versions (atheris comes with the image).
pip3 install -c constraints.txt kaitaistruct crc32c rich pyfuse3 trio

# The import packages map onto top-level folders (pyproject.toml's package-dir); lay them out
# as a plain package tree that PyInstaller can follow, with the seed images where
# fuzz/seeds.py looks for them (ext4guard/corpus/seeds).
STAGE="$SRC/ext4guard-stage"
rm -rf "$STAGE"
mkdir -p "$STAGE/ext4guard/corpus"
touch "$STAGE/ext4guard/__init__.py"
for pkg in parser server fuzz; do
  cp -r "$pkg" "$STAGE/ext4guard/$pkg"
done
cp -r corpus/seeds "$STAGE/ext4guard/corpus/seeds"
cp corpus/ext4.dict "$STAGE/ext4guard/corpus/ext4.dict"
export PYTHONPATH="$STAGE"

TARGETS=$(python3 -c 'from ext4guard.fuzz.targets import TARGETS; print(" ".join(TARGETS))')
ENTRIES="$SRC/ext4guard-fuzzers"
mkdir -p "$ENTRIES"

for name in $TARGETS; do
  entry="$ENTRIES/${name}_fuzzer.py"
  cat > "$entry" <<PY
import sys

from ext4guard.fuzz import libfuzzer

if __name__ == "__main__":
    sys.exit(libfuzzer.main(["$name", *sys.argv[1:]]))
PY
  compile_python_fuzzer "$entry" \
    --paths "$STAGE" \
    --collect-submodules ext4guard \
    --add-data "$STAGE/ext4guard/corpus:ext4guard/corpus"

  cp corpus/ext4.dict "$OUT/${name}_fuzzer.dict"
  { cat "fuzz/targets/$name.options"; echo "dict = ${name}_fuzzer.dict"; } \
    > "$OUT/${name}_fuzzer.options"

  seeds=$(mktemp -d)
  python3 -m ext4guard.fuzz.libfuzzer "$name" --write-seeds "$seeds"
  (cd "$seeds" && zip -q -r "$OUT/${name}_fuzzer_seed_corpus.zip" .)
  rm -rf "$seeds"
done
