meta:
  id: ext4_group_desc
  title: ext2/ext3/ext4 block group descriptor (struct ext4_group_desc)
  file-extension: [img, ext4, ext3, ext2]
  license: GPL-3.0-or-later
  ks-version: 0.11
  endian: le
  bit-endian: le
doc: |
  One block group descriptor, decoded from exactly the bytes of one entry of
  the group descriptor table: 32 bytes without incompat 64bit, s_desc_size
  (64 or more) with it. The slice size alone decides whether the *_hi halves
  exist (`has_hi_fields`, `_io.size >= 64`); bytes past 64 are ignored.

  The block numbers read here are pointers: the defensive parser checks them
  against the filesystem geometry before following them, and verifies
  bg_checksum (crc16 with gdt_csum, crc32c & 0xFFFF with metadata_csum).
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-group-descriptors
  - https://git.kernel.org/pub/scm/fs/ext2/e2fsprogs.git/tree/lib/ext2fs/ext2_fs.h (struct ext4_group_desc)
seq:
  # 0x00: the 32-byte ext2/ext3 descriptor
  - id: bg_block_bitmap_lo
    type: u4
    doc: Block number of the block bitmap, low 32 bits (see `block_bitmap`).
  - id: bg_inode_bitmap_lo
    type: u4
    doc: Block number of the inode bitmap, low 32 bits (see `inode_bitmap`).
  - id: bg_inode_table_lo
    type: u4
    doc: First block of the inode table, low 32 bits (see `inode_table`).
  - id: bg_free_blocks_count_lo
    type: u2
    doc: Free blocks (clusters with bigalloc) in the group, low 16 bits.
  - id: bg_free_inodes_count_lo
    type: u2
    doc: Free inodes in the group, low 16 bits.
  # 0x10
  - id: bg_used_dirs_count_lo
    type: u2
    doc: Directories in the group, low 16 bits.
  - id: bg_flags
    type: group_flags
    doc: Group state flags (EXT4_BG_*).
  - id: bg_exclude_bitmap_lo
    type: u4
    doc: Block of the snapshot exclude bitmap, low 32 bits (not in mainline).
  - id: bg_block_bitmap_csum_lo
    type: u2
    doc: crc32c of the block bitmap, low 16 bits (metadata_csum).
  - id: bg_inode_bitmap_csum_lo
    type: u2
    doc: crc32c of the inode bitmap, low 16 bits (metadata_csum).
  - id: bg_itable_unused_lo
    type: u2
    doc: |
      Never-used inodes at the end of the group's inode table, low 16 bits
      (gdt_csum / metadata_csum).
  - id: bg_checksum
    type: u2
    doc: |
      Descriptor checksum: crc16(uuid, group, descriptor) with gdt_csum, or
      crc32c(uuid, group, descriptor) & 0xFFFF with metadata_csum.
  # 0x20: present in the 64-byte form only
  - id: bg_block_bitmap_hi
    type: u4
    if: has_hi_fields
    doc: Block number of the block bitmap, high 32 bits (64-byte form).
  - id: bg_inode_bitmap_hi
    type: u4
    if: has_hi_fields
    doc: Block number of the inode bitmap, high 32 bits (64-byte form).
  - id: bg_inode_table_hi
    type: u4
    if: has_hi_fields
    doc: First block of the inode table, high 32 bits (64-byte form).
  - id: bg_free_blocks_count_hi
    type: u2
    if: has_hi_fields
    doc: Free blocks in the group, high 16 bits (64-byte form).
  - id: bg_free_inodes_count_hi
    type: u2
    if: has_hi_fields
    doc: Free inodes in the group, high 16 bits (64-byte form).
  # 0x30
  - id: bg_used_dirs_count_hi
    type: u2
    if: has_hi_fields
    doc: Directories in the group, high 16 bits (64-byte form).
  - id: bg_itable_unused_hi
    type: u2
    if: has_hi_fields
    doc: Never-used inodes, high 16 bits (64-byte form).
  - id: bg_exclude_bitmap_hi
    type: u4
    if: has_hi_fields
    doc: Block of the snapshot exclude bitmap, high 32 bits (64-byte form).
  - id: bg_block_bitmap_csum_hi
    type: u2
    if: has_hi_fields
    doc: crc32c of the block bitmap, high 16 bits (64-byte form, metadata_csum).
  - id: bg_inode_bitmap_csum_hi
    type: u2
    if: has_hi_fields
    doc: crc32c of the inode bitmap, high 16 bits (64-byte form, metadata_csum).
  # 0x3C
  - id: bg_reserved
    type: u4
    if: has_hi_fields
    doc: Padding to 64 bytes.
instances:
  has_hi_fields:
    value: _io.size >= 64
    doc: True when the slice holds the 64-byte form, so the *_hi fields were read.
  block_bitmap:
    value: 'has_hi_fields ? (bg_block_bitmap_hi << 32) | bg_block_bitmap_lo : bg_block_bitmap_lo'
    doc: Block number of the block bitmap.
  inode_bitmap:
    value: 'has_hi_fields ? (bg_inode_bitmap_hi << 32) | bg_inode_bitmap_lo : bg_inode_bitmap_lo'
    doc: Block number of the inode bitmap.
  inode_table:
    value: 'has_hi_fields ? (bg_inode_table_hi << 32) | bg_inode_table_lo : bg_inode_table_lo'
    doc: First block of the inode table.
  free_blocks_count:
    value: 'has_hi_fields ? (bg_free_blocks_count_hi << 16) | bg_free_blocks_count_lo : bg_free_blocks_count_lo'
    doc: Free blocks (clusters with bigalloc) in the group.
  free_inodes_count:
    value: 'has_hi_fields ? (bg_free_inodes_count_hi << 16) | bg_free_inodes_count_lo : bg_free_inodes_count_lo'
    doc: Free inodes in the group.
  used_dirs_count:
    value: 'has_hi_fields ? (bg_used_dirs_count_hi << 16) | bg_used_dirs_count_lo : bg_used_dirs_count_lo'
    doc: Directories in the group.
  itable_unused:
    value: 'has_hi_fields ? (bg_itable_unused_hi << 16) | bg_itable_unused_lo : bg_itable_unused_lo'
    doc: Never-used inodes at the end of the inode table.
  exclude_bitmap:
    value: 'has_hi_fields ? (bg_exclude_bitmap_hi << 32) | bg_exclude_bitmap_lo : bg_exclude_bitmap_lo'
    doc: Block of the snapshot exclude bitmap.
  block_bitmap_csum:
    value: 'has_hi_fields ? (bg_block_bitmap_csum_hi << 16) | bg_block_bitmap_csum_lo : bg_block_bitmap_csum_lo'
    doc: |
      Stored block bitmap checksum: 32 bits in the 64-byte form, only the low
      16 bits (compare with crc & 0xFFFF) in the 32-byte form.
  inode_bitmap_csum:
    value: 'has_hi_fields ? (bg_inode_bitmap_csum_hi << 16) | bg_inode_bitmap_csum_lo : bg_inode_bitmap_csum_lo'
    doc: |
      Stored inode bitmap checksum: 32 bits in the 64-byte form, only the low
      16 bits in the 32-byte form.
types:
  group_flags:
    doc: bg_flags, the raw word plus one boolean per defined bit (EXT4_BG_*).
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-group-descriptors
    seq:
      - id: raw
        type: u2
        doc: The bg_flags word as stored.
    instances:
      inode_uninit:
        value: (raw & 0x0001) != 0
        doc: EXT4_BG_INODE_UNINIT, inode table and bitmap not initialised (read as all free).
      block_uninit:
        value: (raw & 0x0002) != 0
        doc: EXT4_BG_BLOCK_UNINIT, block bitmap not initialised (computed from the layout).
      itable_zeroed:
        value: (raw & 0x0004) != 0
        doc: EXT4_BG_INODE_ZEROED, the inode table has been zeroed on disk.
      unknown_bits:
        value: raw & ~0x0007
        doc: Set bits with no name here.
