"""Every fuzz target over its seed inputs and a few hundred mutations: it returns (the
parser's `Ext4Error` answers are swallowed inside the target), within a time and memory
limit; any other exception, a hang or a blow-up fails the test.

Also: the registry is complete (description, entry point, seed inputs, custom mutator,
libFuzzer options), whole-image targets accept every shipped seed, and the libFuzzer driver
reads the options files.
"""

from __future__ import annotations

import configparser
import os
import random
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from ext4guard.fuzz.libfuzzer import excluded_modules, fuzz_modules, libfuzzer_options
from ext4guard.fuzz.seeds import seed_bytes, seed_names
from ext4guard.fuzz.targets import TARGETS, WHOLE_IMAGE, options_file
from tests.limits import limits

#: Mutated inputs per target (record targets cost well under a millisecond each).
MUTATIONS = {"walk": 120, "check": 120, "fuse_ops": 120, "group_desc": 150, "journal": 150}
DEFAULT_MUTATIONS = 300
TIME_LIMIT_S = 30.0


def bounded() -> AbstractContextManager[None]:
    return limits(TIME_LIMIT_S)


def test_registry_is_complete() -> None:
    assert set(TARGETS) >= {
        "superblock", "group_desc", "inode", "extents", "dirblock", "xattr", "journal",
        "walk", "check", "fuse_ops",
    }  # fmt: skip
    for name, module in TARGETS.items():
        assert isinstance(module.DESCRIPTION, str) and module.DESCRIPTION, name
        assert callable(module.test_one_input) and callable(module.make_mutator), name
        options = configparser.ConfigParser()
        options.read(options_file(name))
        assert {"max_len", "timeout", "rss_limit_mb"} <= set(options["libfuzzer"]), name
        assert libfuzzer_options(options_file(name))[0].startswith("-max_len=")


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seed_inputs_fit_and_run(name: str) -> None:
    module = TARGETS[name]
    inputs = module.seed_inputs()
    assert inputs, f"{name}: no seed inputs"
    options = configparser.ConfigParser()
    options.read(options_file(name))
    max_len = int(options["libfuzzer"]["max_len"])
    assert max(len(data) for data in inputs) <= max_len
    with bounded():
        for data in inputs:
            module.test_one_input(data)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_mutated_inputs_only_raise_ext4error(name: str) -> None:
    """Mutations from the target's own custom mutator, fixed and unfixed, plus truncations
    and random bytes: `test_one_input` must return for every one."""
    module = TARGETS[name]
    rng = random.Random(f"fuzz-{name}")
    corpus = module.seed_inputs()
    fixed = module.make_mutator(fix=True)
    unfixed = module.make_mutator(fix=False)
    with bounded():
        for i in range(MUTATIONS.get(name, DEFAULT_MUTATIONS)):
            data = corpus[rng.randrange(len(corpus))]
            mutate = fixed if i % 3 else unfixed
            data = mutate(data, 1 << 22, rng.randrange(1 << 32))
            if name not in WHOLE_IMAGE and i % 7 == 0:
                data = data[:2] + rng.randbytes(rng.randrange(1, 64)) + data[66:]
            if name not in WHOLE_IMAGE and i % 11 == 0:
                data = bytes([data[0], data[1] | 1]) + data[2:]  # leave checksums broken
            module.test_one_input(data)
            if i % 5 == 0:
                corpus.append(data)  # mutations of mutations, as a campaign goes


@pytest.mark.parametrize("name", sorted(WHOLE_IMAGE))
def test_whole_image_targets_take_every_seed(name: str) -> None:
    module = TARGETS[name]
    with bounded():
        for seed in seed_names():
            module.test_one_input(seed_bytes(seed))
            module.test_one_input(seed_bytes(seed)[: 64 * 1024])  # truncated
        module.test_one_input(b"")
        module.test_one_input(bytes(4096))


def test_record_targets_take_odd_inputs() -> None:
    with bounded():
        for name, module in TARGETS.items():
            if name in WHOLE_IMAGE:
                continue
            for data in (b"", b"\x00", b"\xff\xff", b"\x07\x00" + bytes(8192), bytes(range(256))):
                module.test_one_input(data)


def test_driver_instruments_only_the_parser() -> None:
    names = fuzz_modules()
    assert "ext4guard.fuzz.mutators" in names and "ext4guard.fuzz.targets.walk" in names
    assert "ext4guard.fuzz.targets" in names
    assert not any(n.startswith("ext4guard.parser") for n in names)
    # Beyond the fuzz package, only the named hot helpers of the parser are left alone.
    parser_excluded = [n for n in excluded_modules() if n.startswith("ext4guard.parser")]
    assert parser_excluded == ["ext4guard.parser.dirhash"]
    assert set(names) <= set(excluded_modules())


def test_record_targets_leave_their_templates_intact() -> None:
    """Splicing, checksum fixing and mutation restore the seed's bytes (in the memfd and in
    the scratch copy) after every input: one input never leaks into the next."""
    rng = random.Random(5)
    for name, module in TARGETS.items():
        if name in WHOLE_IMAGE:
            continue
        inputs = module.seed_inputs()
        mutate = module.make_mutator()
        for i in range(40):
            data = mutate(inputs[rng.randrange(len(inputs))], 1 << 20, rng.randrange(1 << 30))
            module.test_one_input(data if i % 2 else data[:1] + b"\x01" + data[2:])
        for cand in module.TARGET.candidates:
            template = cand.template
            assert template.work == template.raw, name
            assert os.pread(template.fd, template.size, 0) == template.raw, name


def test_dictionary_is_libfuzzer_syntax() -> None:
    """Every entry is name="value" with \\xNN, \\\\ and \\" escapes only (libFuzzer's -dict)."""
    import re

    from ext4guard.fuzz.libfuzzer import DICTIONARY

    entry = re.compile(r'^[A-Za-z0-9_]+="((?:[^"\\]|\\x[0-9A-Fa-f]{2}|\\\\|\\")+)"$')
    values: dict[str, bytes] = {}
    for line in DICTIONARY.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = entry.match(line)
        assert match, line
        raw = re.sub(r"\\x([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)), match.group(1))
        values[line.split("=", 1)[0]] = (
            raw.replace('\\"', '"').replace("\\\\", "\\").encode("latin-1")
        )
    assert values["ext4_super_magic"] == (0xEF53).to_bytes(2, "little")
    assert values["ext4_ext_magic"] == (0xF30A).to_bytes(2, "little")
    assert values["ext4_xattr_magic"] == (0xEA020000).to_bytes(4, "little")
    assert values["jbd2_magic_be"] == (0xC03B3998).to_bytes(4, "big")
    assert values["ro_compat_metadata_csum"] == (0x400).to_bytes(4, "little")
    assert values["fl_extents"] == (0x80000).to_bytes(4, "little")


def test_coverage_counts_parser_lines(tmp_path: Path) -> None:
    """fuzz/coverage.py's replay: lines of parser/ executed by a target over a corpus."""
    from ext4guard.fuzz import coverage

    total = sum(len(lines) for lines in coverage.parser_lines().values())
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a").write_bytes(seed_bytes("ext4_nojournal"))
    hits = coverage.replay_lines("walk", [seeds])
    assert 500 < len(hits) < total
    assert all(path.startswith(str(coverage.PARSER_DIR)) for path, _ in hits)
