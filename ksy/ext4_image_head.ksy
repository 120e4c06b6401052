meta:
  id: ext4_image_head
  title: Head of an ext2/ext3/ext4 image (boot area, superblock, first GDT block)
  file-extension: [img, ext4, ext3, ext2]
  license: GPL-3.0-or-later
  ks-version: 0.11
  endian: le
  bit-endian: le
  imports:
    - ext4_superblock
    - ext4_group_desc
doc: |
  Entry point for opening a raw image in the Kaitai Web IDE: the fixed layout
  at the start of every ext2/3/4 filesystem. Bytes 0-1023 are the boot area,
  bytes 1024-2047 the primary superblock, and the block after the one holding
  the superblock starts the group descriptor table; the first block of that
  table is decoded here.

  Everything is at a fixed place computed from the (validated) block size; no
  on-disk pointer is followed, and the number of descriptors decoded is
  bounded by one block. ext4guard itself does not use this type: the
  defensive parser reads each record from its own bounded slice.
doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/overview.html#layout
seq:
  - id: boot_sector
    size: 1024
    doc: Boot area (x86 boot sector or zeros); not part of the filesystem metadata.
  - id: superblock
    size: 1024
    type: ext4_superblock
    doc: The primary superblock, at byte 1024 whatever the block size.
  - id: gdt_padding
    size: 'superblock.block_size > 2048 ? superblock.block_size - 2048 : 0'
    doc: Rest of block 0 when blocks are larger than 2 KiB (the GDT starts at the next block).
  - id: first_gdt_block
    size: superblock.block_size
    type: gdt_block
    doc: First block of the group descriptor table (block s_first_data_block + 1).
types:
  gdt_block:
    doc: |
      One block of group descriptors: as many as the filesystem has groups,
      at most one block's worth (block_size / desc_size).
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-group-descriptors
    seq:
      - id: descs
        size: _parent.superblock.desc_size
        type: ext4_group_desc
        repeat: expr
        repeat-expr: 'descs_in_block < _parent.superblock.group_count ? descs_in_block : _parent.superblock.group_count'
        doc: The group descriptors of groups 0, 1, ... held by this block.
    instances:
      descs_in_block:
        value: _parent.superblock.block_size / _parent.superblock.desc_size
        doc: Descriptors per block; desc_size is 32 or a validated power of two from 64 to 1024.
