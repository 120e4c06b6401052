"""ext4guard.fuzz: attacking the parser.

- `seeds`: the shipped seed images, raw; `records`: where a healthy seed's metadata records
  are (superblocks, descriptors, bitmaps, inodes, extent and indirect blocks, directory and
  htree blocks, xattr blocks, journal blocks);
- `mutators`: structure-aware mutation of those records (boundary values, pointers into
  metadata, past the end, to themselves, to an ancestor; swaps, copies, truncation) with every
  invalidated checksum recomputed, or not; shared by the atheris custom mutator and the
  hypothesis strategies;
- `targets`: one fuzz target per parser layer and whole-image ones (`targets.TARGETS`);
  `libfuzzer`: runs one under atheris with the parser instrumented;
- `coverage`: structure-aware vs byte-level mutation, equal time, same seeds;
- `regressions`: a finding as a corpus/regressions entry.

Nothing in ext4guard.parser imports this package.
"""
