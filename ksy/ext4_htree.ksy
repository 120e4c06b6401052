meta:
  id: ext4_htree
  title: ext4 hash tree directory records (dx_root, dx_node, dx_entry, dx_tail)
  license: GPL-3.0-or-later
  ks-version: '0.11'
  endian: le
doc: |
  Record layouts of an indexed (htree, dir_index) ext4 directory. Block 0 of
  the directory is a `dx_root`: to a linear reader it holds just "." and
  ".." (the latter spanning the rest of the block), but after them sit the
  `dx_root_info` and a sorted array of (hash, block) `dx_entry` records. With
  `indirect_levels` > 0 the entries point at `dx_node` blocks, which look
  like one empty dirent spanning the whole block followed by another entry
  array; the last level points at ordinary linear leaf blocks. Each entry
  array begins with a `dx_countlimit` overlaid on the first entry's hash
  field, whose hash is implicitly 0.

  This file describes records only; the top-level type reads nothing. The
  parser hands `dx_root` / `dx_node` exactly one directory block; `limit`
  and `count` are bounded by that block's capacity before any entry is read.
  Following `block` numbers (logical blocks of the directory), checking the
  depth against large_dir, hash ordering and checksums are the parser's job.
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
  - Linux fs/ext4/namei.c (struct dx_root, struct dx_node, struct dx_tail)

types:
  dx_root:
    doc: |
      `struct dx_root`: block 0 of an htree directory, decoded from the whole
      block. The entry array starts at byte 0x20 (info_length is validated
      to be 8).
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    seq:
      - id: dot
        type: fake_dirent
        doc: The "." entry (inode = this directory, rec_len 12, name_len 1).
      - id: dot_name
        size: 4
        doc: '"." padded with NUL bytes to 4.'
      - id: dotdot
        type: fake_dirent
        doc: |
          The ".." entry (inode = parent directory, name_len 2); its rec_len
          runs to the end of the block (block size - 12) so that linear
          readers skip the index.
      - id: dotdot_name
        size: 4
        doc: '".." padded with NUL bytes to 4.'
      - id: info
        type: dx_root_info
        doc: Hash tree parameters (hash function, depth).
      - id: countlimit
        type: dx_countlimit(entry_capacity)
        doc: Slot capacity and use of the entry array; doubles as entry 0's hash.
      - id: block
        type: u4
        doc: Entry 0's block (logical directory block) for hashes below entries[0].hash.
      - id: entries
        type: dx_entry
        repeat: expr
        repeat-expr: countlimit.count - 1
        doc: Entries 1 .. count-1, sorted by hash.
    instances:
      entry_capacity:
        value: '(_io.size - 0x20) / 8'
        doc: Number of 8-byte entry slots between byte 0x20 and the end of the block.
      tail_offset:
        value: 0x20 + 8 * countlimit.limit
        doc: Byte offset of the dx_tail, right after `limit` entry slots.
      has_tail:
        value: tail_offset + 8 <= _io.size
        doc: True when the block has room for a dx_tail after `limit` slots.
      tail:
        pos: tail_offset
        type: dx_tail
        if: has_tail
        doc: |
          Checksum tail (metadata_csum only; then limit is one slot less than
          capacity). Inside this block, at an offset bounded by the validated
          limit; not a pointer across the image.

  dx_node:
    doc: |
      `struct dx_node`: an interior block of the hash tree, decoded from the
      whole block. It starts with an empty fake dirent (inode 0, rec_len =
      block size) so that linear readers skip it; the entry array starts at
      byte 8.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    seq:
      - id: fake
        type: fake_dirent
        doc: Empty dirent hiding the block from linear readers (inode 0, rec_len = block size).
      - id: countlimit
        type: dx_countlimit(entry_capacity)
        doc: Slot capacity and use of the entry array; doubles as entry 0's hash.
      - id: block
        type: u4
        doc: Entry 0's block (logical directory block) for hashes below entries[0].hash.
      - id: entries
        type: dx_entry
        repeat: expr
        repeat-expr: countlimit.count - 1
        doc: Entries 1 .. count-1, sorted by hash.
    instances:
      entry_capacity:
        value: '(_io.size - 8) / 8'
        doc: Number of 8-byte entry slots between byte 8 and the end of the block.
      tail_offset:
        value: 8 + 8 * countlimit.limit
        doc: Byte offset of the dx_tail, right after `limit` entry slots.
      has_tail:
        value: tail_offset + 8 <= _io.size
        doc: True when the block has room for a dx_tail after `limit` slots.
      tail:
        pos: tail_offset
        type: dx_tail
        if: has_tail
        doc: |
          Checksum tail (metadata_csum only). Inside this block, at an offset
          bounded by the validated limit; not a pointer across the image.

  fake_dirent:
    doc: |
      `struct fake_dirent`: the 8-byte fixed part of a dirent, as the htree
      blocks embed it. Decoded as-is; the parser checks the values it relies
      on (".." rec_len, dx_node inode 0 and rec_len).
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    seq:
      - id: inode
        type: u4
        doc: Inode number ("." and ".." in dx_root; 0 in dx_node).
      - id: rec_len
        type: u2
        doc: Distance to the next entry in bytes (65535 stands for 65536).
      - id: name_len
        type: u1
        doc: Name length (1 for ".", 2 for "..", 0 in dx_node).
      - id: file_type
        type: u1
        doc: File type code (2 = directory for "." and ".."; 0 in dx_node).

  dx_root_info:
    doc: |
      `struct dx_root_info`: the 8 bytes after ".." in dx_root describing the
      tree. The kernel locates the entry array at info + info_length, so any
      info_length but 8 is rejected here.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    seq:
      - id: reserved_zero
        type: u4
        doc: Always 0 (e2fsck treats non-zero as a corrupt index).
      - id: hash_version
        type: u1
        enum: hash_version
        doc: |
          Hash function of the tree. On disk 0 (legacy), 1 (half_md4), 2 (tea)
          or 6 (siphash); the signed/unsigned flavour comes from the
          superblock flags, not from here.
      - id: info_length
        type: u1
        valid: 8
        doc: Length of this info record in bytes; always 8.
      - id: indirect_levels
        type: u1
        valid:
          max: 2
        doc: |
          Number of dx_node levels below the root: 0 or 1, and 2 only with
          the large_dir feature (the parser enforces that).
      - id: unused_flags
        type: u1
        doc: Flags; none defined (the kernel refuses the tree if bit 0 is set).

  dx_countlimit:
    doc: |
      `struct dx_countlimit`: the first 4 bytes of an entry array, overlaid
      on entry 0's hash. Bounded against the slots the enclosing block can
      hold before any entry is read.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    params:
      - id: capacity
        type: u4
        doc: Entry slots available from the countlimit to the end of the block (passed by dx_root / dx_node).
    seq:
      - id: limit
        type: u2
        valid:
          expr: _ >= 1 and _ <= capacity
        doc: |
          Maximum number of entries the array may hold (capacity, or one less
          with metadata_csum to leave room for the dx_tail).
      - id: count
        type: u2
        valid:
          expr: _ >= 1 and _ <= limit
        doc: Number of entries in use, including entry 0; 1 <= count <= limit.

  dx_entry:
    doc: |
      `struct dx_entry`: maps names whose hash is >= `hash` (and below the
      next entry's hash) to a directory block.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    seq:
      - id: hash
        type: u4
        doc: |
          Lowest hash handled by this entry; bit 0 set means a hash collision
          continues from the previous block.
      - id: block
        type: u4
        doc: Logical block number (within the directory) of the child node or leaf.

  dx_tail:
    doc: |
      `struct dx_tail`: the checksum after the `limit` entry slots of a
      dx_root or dx_node, present with metadata_csum.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    seq:
      - id: dt_reserved
        type: u4
        doc: Reserved, zero.
      - id: dt_checksum
        type: u4
        doc: |
          crc32c, seeded with the directory inode's checksum seed, of the
          block bytes up to the end of the `count` used entries followed by
          this tail with dt_checksum zeroed.

enums:
  hash_version:
    0:
      id: legacy
      doc: The original ext3 "dx_hack_hash".
    1:
      id: half_md4
      doc: Half MD4 (the default).
    2:
      id: tea
      doc: Tiny Encryption Algorithm hash.
    3:
      id: legacy_unsigned
      doc: Legacy hash computed over unsigned chars (superblock default only).
    4:
      id: half_md4_unsigned
      doc: Half MD4 over unsigned chars (superblock default only).
    5:
      id: tea_unsigned
      doc: TEA over unsigned chars (superblock default only).
    6:
      id: siphash
      doc: SipHash, used for casefolded and encrypted directories.
