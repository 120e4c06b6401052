meta:
  id: ext4_extent
  title: ext4 extent tree records (header, index, leaf, tail)
  license: GPL-3.0-or-later
  ks-version: '0.11'
  endian: le
doc: |
  Record layouts of the ext4 extent tree. An inode with EXT4_EXTENTS_FL maps
  its logical blocks through a tree whose root lives in the 60-byte `i_block`
  and whose other nodes each fill one filesystem block. Every node is a
  12-byte header followed by `eh_max` 12-byte slots, of which the first
  `eh_entries` are used: index entries when `eh_depth > 0`, leaf extents when
  `eh_depth == 0`. A block-sized node also carries a 4-byte checksum tail
  right after the `eh_max` slots.

  This file describes records only. The top-level type reads nothing; the
  parser instantiates `node` (or `extent_header`) on a byte slice that is
  exactly one node: the 60 bytes of `i_block`, or one extent block. Following
  `ei_leaf` to the child block, checking that the child's depth is the
  parent's minus one, that keys are sorted, that physical blocks lie inside
  the filesystem and that the checksum matches is the defensive parser's
  job, never this grammar's.
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
  - e2fsprogs lib/ext2fs/ext3_extents.h
  - Linux fs/ext4/ext4_extents.h

types:
  node:
    doc: |
      One whole extent tree node, decoded from a slice that is exactly the
      node: `i_block` (60 bytes, capacity 4) or one filesystem block
      (capacity (block size - 12) / 12). The header's counts are validated
      against that capacity before any entry is read, so a hostile
      `eh_entries` can never drive a long repeat.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
    seq:
      - id: header
        type: extent_header
        doc: The 12-byte node header (magic, counts, depth).
      - id: indexes
        type: extent_idx
        repeat: expr
        repeat-expr: header.eh_entries
        if: header.eh_depth > 0
        doc: Index entries of an interior node (eh_depth > 0), sorted by ei_block.
      - id: extents
        type: extent_leaf
        repeat: expr
        repeat-expr: header.eh_entries
        if: header.eh_depth == 0
        doc: Extents of a leaf node (eh_depth == 0), sorted by ee_block.
    instances:
      is_leaf:
        value: header.eh_depth == 0
        doc: True when this node holds extents rather than index entries.
      tail_offset:
        value: 12 + 12 * header.eh_max
        doc: |
          Byte offset of the checksum tail inside the node: just past the
          `eh_max` slots. It is also the length of the bytes the checksum
          covers (crc32c seeded per inode over bytes 0 .. tail_offset).
      has_tail:
        value: tail_offset + 4 <= _io.size
        doc: |
          True when the slice has room for a tail after the `eh_max` slots.
          False for the 60-byte `i_block` root, which never has one.
      tail:
        pos: tail_offset
        type: extent_tail
        if: has_tail
        doc: |
          The checksum tail of a block-sized node. It sits inside this node's
          own slice at a position bounded by the validated `eh_max`; it is
          not a pointer across the image. Meaningful only with metadata_csum.

  extent_header:
    doc: |
      `struct ext4_extent_header`: the 12 bytes at the start of every node.
      `eh_max` and `eh_entries` are checked against the slot capacity of the
      slice the header is read from (`(_io.size - 12) / 12`), so decode it
      from the whole node, never from a 12-byte cut.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
    seq:
      - id: eh_magic
        type: u2
        valid: 0xf30a
        doc: Magic number 0xF30A identifying an extent node.
      - id: eh_entries
        type: u2
        valid:
          max: capacity
        doc: |
          Number of used entry slots that follow the header; at most eh_max
          (checked on eh_max, which is read next).
      - id: eh_max
        type: u2
        valid:
          expr: _ >= 1 and _ <= capacity and _ >= eh_entries
        doc: |
          Number of entry slots the node has room for: 4 in i_block, and
          (block size - 12) / 12 in a block. Valid when 1 <= eh_max <=
          capacity and eh_entries <= eh_max.
      - id: eh_depth
        type: u2
        valid:
          max: 5
        doc: |
          Height of the subtree below this node: 0 for a leaf. The kernel
          never builds more than 5 levels (EXT4_MAX_EXTENT_DEPTH).
      - id: eh_generation
        type: u4
        doc: Tree generation; written as 0 by Linux, used by Lustre.
    instances:
      capacity:
        value: '(_io.size - 12) / 12'
        doc: |
          How many 12-byte entry slots fit after the header in the slice this
          header was decoded from (4 for i_block). The divisor is a constant.

  extent_idx:
    doc: |
      `struct ext4_extent_idx`: an interior-node entry pointing at the child
      node that maps logical blocks from `ei_block` up to the next index
      entry's `ei_block`.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
    seq:
      - id: ei_block
        type: u4
        doc: First logical block (file block number) covered by the child.
      - id: ei_leaf_lo
        type: u4
        doc: Low 32 bits of the physical block holding the child node.
      - id: ei_leaf_hi
        type: u2
        doc: High 16 bits of the physical block holding the child node.
      - id: ei_unused
        type: u2
        doc: Padding, unused.
    instances:
      leaf:
        value: (ei_leaf_hi << 32) | ei_leaf_lo
        doc: Physical block number of the child node (48 bits).

  extent_leaf:
    doc: |
      `struct ext4_extent`: a leaf entry mapping `len` logical blocks from
      `ee_block` onto physical blocks from `start`. The high bit of ee_len
      encodes "unwritten" (preallocated, reads as zeros): ee_len > 32768
      means unwritten with length ee_len - 32768, while ee_len == 32768
      exactly is an initialized extent of 32768 blocks. ee_len == 0 maps
      nothing and is corrupt; the parser rejects it.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
    seq:
      - id: ee_block
        type: u4
        doc: First logical block (file block number) this extent maps.
      - id: ee_len
        type: u2
        doc: |
          Length in blocks, with the unwritten flag folded in: up to 32768 is
          an initialized extent, above 32768 an unwritten one of
          ee_len - 32768 blocks.
      - id: ee_start_hi
        type: u2
        doc: High 16 bits of the first physical block.
      - id: ee_start_lo
        type: u4
        doc: Low 32 bits of the first physical block.
    instances:
      start:
        value: (ee_start_hi << 32) | ee_start_lo
        doc: First physical block of the extent (48 bits).
      is_unwritten:
        value: ee_len > 32768
        doc: True for an unwritten (preallocated, reads-as-zero) extent.
      len:
        value: 'ee_len > 32768 ? ee_len - 32768 : ee_len'
        doc: Number of blocks mapped, with the unwritten flag removed (0..32768).

  extent_tail:
    doc: |
      `struct ext4_extent_tail`: the checksum stored right after the `eh_max`
      slots of an extent block (never in i_block), present with
      metadata_csum.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
    seq:
      - id: eb_checksum
        type: u4
        doc: |
          crc32c of the node bytes before the tail, seeded with the inode's
          checksum seed (filesystem seed, inode number, generation).
