meta:
  id: ext4_inode
  title: ext2/ext3/ext4 inode (struct ext4_inode)
  file-extension: [img, ext4, ext3, ext2]
  license: GPL-3.0-or-later
  ks-version: 0.11
  endian: le
  bit-endian: le
doc: |
  One inode record, decoded from exactly s_inode_size bytes of an inode table
  (128 on revision 0 filesystems).

  The first 128 bytes are always there. The extra fields after them exist
  only when the slice is longer than 128 bytes AND `128 + i_extra_isize`
  covers the whole field, the kernel's EXT4_FITS_IN_INODE rule: each one is
  read under `if: extra_end >= <end offset of the field>`, so a short, odd
  or oversized i_extra_isize never reads past the slice and never raises.
  Whether i_extra_isize itself is acceptable (a multiple of 4 that fits the
  record) is reported by `extra_isize_valid`; rejecting the inode is the
  parser's decision. The bytes from 128 + i_extra_isize to the end of the
  record hold the in-inode extended attributes; the parser slices them.

  i_block is kept as 60 raw bytes: depending on i_flags and i_mode it is an
  extent tree root, a block map, inline data or a fast symlink target, and
  the parser decides which.

  The osd1/osd2 unions are decoded with their Linux meaning (s_creator_os
  linux), which is what ext4 uses.
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#index-nodes
  - https://git.kernel.org/pub/scm/fs/ext2/e2fsprogs.git/tree/lib/ext2fs/ext2_fs.h (struct ext2_inode_large)
seq:
  # 0x00
  - id: i_mode
    type: u2
    doc: File type (high 4 bits, see `file_type`) and permission bits (low 12 bits).
  - id: i_uid
    type: u2
    doc: Owner user id, low 16 bits (see `uid`).
  - id: i_size_lo
    type: u4
    doc: Size in bytes, low 32 bits (see `size`).
  - id: i_atime
    type: s4
    doc: |
      Last access time, signed seconds since the epoch. Holds the value
      checksum instead for an EA_INODE_FL inode.
  - id: i_ctime
    type: s4
    doc: |
      Last inode change time, signed seconds since the epoch. Holds the low 32
      bits of the reference count for an EA_INODE_FL inode.
  # 0x10
  - id: i_mtime
    type: s4
    doc: |
      Last data modification time, signed seconds since the epoch. Holds the
      owning inode number for an EA_INODE_FL inode.
  - id: i_dtime
    type: u4
    doc: |
      Deletion time, seconds since the epoch; for an inode on the orphan
      list, the number of the next orphan inode.
  - id: i_gid
    type: u2
    doc: Group id, low 16 bits (see `gid`).
  - id: i_links_count
    type: u2
    doc: Hard link count; with dir_nlink, 1 on a directory means "too many to count".
  - id: i_blocks_lo
    type: u4
    doc: Block count, low 32 bits, in 512-byte units unless huge_file says otherwise (see `blocks_48`).
  # 0x20
  - id: i_flags
    type: inode_flags
    doc: Inode flags (EXT4_*_FL).
  - id: l_i_version
    type: u4
    doc: |
      osd1 (Linux): inode version, low 32 bits; the high 32 bits of the
      reference count for an EA_INODE_FL inode.
  - id: i_block
    size: 60
    doc: |
      The 15 words of EXT4_N_BLOCKS, kept raw: extent tree root
      (EXT4_EXTENTS_FL), block map, inline data (EXT4_INLINE_DATA_FL) or the
      target of a fast symlink.
  # 0x64
  - id: i_generation
    type: u4
    doc: File version for NFS; part of the per-inode checksum seed.
  - id: i_file_acl_lo
    type: u4
    doc: Block holding the extended attributes, low 32 bits (see `file_acl_64`).
  - id: i_size_high
    type: u4
    doc: Size in bytes, high 32 bits (i_dir_acl in ext2).
  # 0x70
  - id: i_obso_faddr
    type: u4
    doc: Obsolete fragment address.
  # 0x74: osd2, Linux layout
  - id: l_i_blocks_hi
    type: u2
    doc: osd2 (Linux) l_i_blocks_high, block count bits 32..47 (ro_compat huge_file).
  - id: l_i_file_acl_high
    type: u2
    doc: osd2 (Linux) extended attribute block, bits 32..47 (incompat 64bit).
  - id: l_i_uid_high
    type: u2
    doc: osd2 (Linux) owner user id, high 16 bits.
  - id: l_i_gid_high
    type: u2
    doc: osd2 (Linux) group id, high 16 bits.
  - id: l_i_checksum_lo
    type: u2
    doc: osd2 (Linux) inode crc32c, low 16 bits (metadata_csum).
  - id: l_i_reserved
    type: u2
    doc: osd2 (Linux) unused.
  # 0x80: extra fields, each present only if the slice and i_extra_isize both cover it
  - id: i_extra_isize
    type: u2
    if: _io.size >= 0x82
    doc: |
      Bytes of extra fields beyond the 128-byte base, counting this field;
      32 on current kernels. Present only when the record is longer than 128.
  - id: i_checksum_hi
    type: u2
    if: extra_end >= 0x84
    doc: Inode crc32c, high 16 bits (metadata_csum).
  - id: i_ctime_extra
    type: u4
    if: extra_end >= 0x88
    doc: Change time extension, (nanoseconds << 2) | epoch bits 32..33.
  - id: i_mtime_extra
    type: u4
    if: extra_end >= 0x8c
    doc: Modification time extension, (nanoseconds << 2) | epoch bits 32..33.
  # 0x8C
  - id: i_atime_extra
    type: u4
    if: extra_end >= 0x90
    doc: Access time extension, (nanoseconds << 2) | epoch bits 32..33.
  - id: i_crtime
    type: s4
    if: extra_end >= 0x94
    doc: Creation time, signed seconds since the epoch.
  - id: i_crtime_extra
    type: u4
    if: extra_end >= 0x98
    doc: Creation time extension, (nanoseconds << 2) | epoch bits 32..33.
  - id: i_version_hi
    type: u4
    if: extra_end >= 0x9c
    doc: Inode version, high 32 bits.
  # 0x9C
  - id: i_projid
    type: u4
    if: extra_end >= 0xa0
    doc: Project id (ro_compat project).
instances:
  extra_end:
    value: '_io.size < 0x82 ? 0x80 : (0x80 + i_extra_isize < _io.size ? 0x80 + i_extra_isize : _io.size)'
    doc: |
      Offset just past the fields this record may hold: 128 for a 128-byte
      record, else min(128 + i_extra_isize, record size). An extra field
      ending at offset E is present exactly when extra_end >= E.
  extra_isize_valid:
    value: '_io.size < 0x82 or (0x80 + i_extra_isize <= _io.size and (i_extra_isize & 3) == 0)'
    doc: |
      False when the kernel would reject the inode for its i_extra_isize (not
      a multiple of 4, or past the end of the record). Always true for a
      record too short to hold i_extra_isize (128 bytes).
  file_type:
    value: (i_mode >> 12) & 0xf
    enum: file_type
    doc: File type from the top 4 bits of i_mode (S_IFMT >> 12).
  permissions:
    value: i_mode & 0xfff
    doc: Permission, setuid, setgid and sticky bits of i_mode.
  uid:
    value: (l_i_uid_high << 16) | i_uid
    doc: 32-bit owner user id.
  gid:
    value: (l_i_gid_high << 16) | i_gid
    doc: 32-bit group id.
  size:
    value: (i_size_high << 32) | i_size_lo
    doc: |
      Size in bytes, 64 bits as the kernel reads it (ext4_isize); a value of
      2^63 or more is corrupt.
  blocks_48:
    value: (l_i_blocks_hi << 32) | i_blocks_lo
    doc: |
      48-bit block count, meaningful only with ro_compat huge_file (use
      i_blocks_lo alone without it). Counted in 512-byte units, or in
      filesystem blocks when i_flags.huge_file is set.
  file_acl_64:
    value: (l_i_file_acl_high << 32) | i_file_acl_lo
    doc: |
      48-bit extended attribute block, meaningful only with incompat 64bit
      (use i_file_acl_lo alone without it).
  checksum:
    value: 'extra_end >= 0x84 ? (i_checksum_hi << 16) | l_i_checksum_lo : l_i_checksum_lo'
    doc: |
      Stored inode crc32c: 32 bits when i_checksum_hi is present, else only
      the low 16 bits (compare with crc & 0xFFFF).
  has_checksum_hi:
    value: extra_end >= 0x84
    doc: True when i_checksum_hi was read.
  has_ctime_extra:
    value: extra_end >= 0x88
    doc: True when i_ctime_extra was read.
  has_mtime_extra:
    value: extra_end >= 0x8c
    doc: True when i_mtime_extra was read.
  has_atime_extra:
    value: extra_end >= 0x90
    doc: True when i_atime_extra was read.
  has_crtime:
    value: extra_end >= 0x94
    doc: True when i_crtime was read.
  has_crtime_extra:
    value: extra_end >= 0x98
    doc: True when i_crtime_extra was read.
  has_version_hi:
    value: extra_end >= 0x9c
    doc: True when i_version_hi was read.
  has_projid:
    value: extra_end >= 0xa0
    doc: True when i_projid was read.
  ctime_sec:
    value: 'has_ctime_extra ? i_ctime + ((i_ctime_extra & 3) << 32) : i_ctime'
    doc: Change time in seconds, 34 bits when the extension is present (ext4_decode_extra_time).
  ctime_nsec:
    value: 'has_ctime_extra ? i_ctime_extra >> 2 : 0'
    doc: Change time nanoseconds (0 without the extension; values >= 10^9 are corrupt).
  mtime_sec:
    value: 'has_mtime_extra ? i_mtime + ((i_mtime_extra & 3) << 32) : i_mtime'
    doc: Modification time in seconds, 34 bits when the extension is present.
  mtime_nsec:
    value: 'has_mtime_extra ? i_mtime_extra >> 2 : 0'
    doc: Modification time nanoseconds.
  atime_sec:
    value: 'has_atime_extra ? i_atime + ((i_atime_extra & 3) << 32) : i_atime'
    doc: Access time in seconds, 34 bits when the extension is present.
  atime_nsec:
    value: 'has_atime_extra ? i_atime_extra >> 2 : 0'
    doc: Access time nanoseconds.
  crtime_sec:
    value: 'has_crtime ? (has_crtime_extra ? i_crtime + ((i_crtime_extra & 3) << 32) : i_crtime) : 0'
    doc: Creation time in seconds; 0 when the record has no i_crtime.
  crtime_nsec:
    value: 'has_crtime_extra ? i_crtime_extra >> 2 : 0'
    doc: Creation time nanoseconds.
  version:
    value: 'has_version_hi ? (i_version_hi << 32) | l_i_version : l_i_version'
    doc: Inode version, 64 bits when i_version_hi is present.
  projid:
    value: 'has_projid ? i_projid : 0'
    doc: Project id; 0 (the default project) when the record has no i_projid.
types:
  inode_flags:
    doc: |
      i_flags, the raw word plus one boolean per defined bit (EXT4_*_FL).
      `unknown_bits` are the bits this grammar does not name.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#index-nodes
    seq:
      - id: raw
        type: u4
        doc: The i_flags word as stored.
    instances:
      secrm:
        value: (raw & 0x00000001) != 0
        doc: EXT4_SECRM_FL, secure deletion (not implemented).
      unrm:
        value: (raw & 0x00000002) != 0
        doc: EXT4_UNRM_FL, undelete (not implemented).
      compr:
        value: (raw & 0x00000004) != 0
        doc: EXT4_COMPR_FL, compressed file (not implemented).
      sync:
        value: (raw & 0x00000008) != 0
        doc: EXT4_SYNC_FL, synchronous writes.
      immutable:
        value: (raw & 0x00000010) != 0
        doc: EXT4_IMMUTABLE_FL, file cannot be changed.
      append:
        value: (raw & 0x00000020) != 0
        doc: EXT4_APPEND_FL, append only.
      nodump:
        value: (raw & 0x00000040) != 0
        doc: EXT4_NODUMP_FL, skipped by dump(8).
      noatime:
        value: (raw & 0x00000080) != 0
        doc: EXT4_NOATIME_FL, access time not updated.
      dirty:
        value: (raw & 0x00000100) != 0
        doc: EXT4_DIRTY_FL, compression leftover (unused).
      comprblk:
        value: (raw & 0x00000200) != 0
        doc: EXT4_COMPRBLK_FL, has compressed clusters (unused).
      nocompr:
        value: (raw & 0x00000400) != 0
        doc: EXT4_NOCOMPR_FL, do not compress (unused).
      encrypt:
        value: (raw & 0x00000800) != 0
        doc: EXT4_ENCRYPT_FL, contents and names are encrypted.
      index:
        value: (raw & 0x00001000) != 0
        doc: EXT4_INDEX_FL, directory has a hash tree index.
      imagic:
        value: (raw & 0x00002000) != 0
        doc: EXT4_IMAGIC_FL, AFS magic directory.
      journal_data:
        value: (raw & 0x00004000) != 0
        doc: EXT4_JOURNAL_DATA_FL, data goes through the journal.
      notail:
        value: (raw & 0x00008000) != 0
        doc: EXT4_NOTAIL_FL, no tail merging (unused by ext4).
      dirsync:
        value: (raw & 0x00010000) != 0
        doc: EXT4_DIRSYNC_FL, synchronous directory updates.
      topdir:
        value: (raw & 0x00020000) != 0
        doc: EXT4_TOPDIR_FL, top of a directory hierarchy (Orlov allocator).
      huge_file:
        value: (raw & 0x00040000) != 0
        doc: EXT4_HUGE_FILE_FL, i_blocks counts filesystem blocks, not 512-byte units.
      extents:
        value: (raw & 0x00080000) != 0
        doc: EXT4_EXTENTS_FL, i_block holds an extent tree root.
      verity:
        value: (raw & 0x00100000) != 0
        doc: EXT4_VERITY_FL, fs-verity file.
      ea_inode:
        value: (raw & 0x00200000) != 0
        doc: EXT4_EA_INODE_FL, this inode stores an extended attribute value.
      eofblocks:
        value: (raw & 0x00400000) != 0
        doc: EXT4_EOFBLOCKS_FL, blocks past EOF (obsolete).
      snapfile:
        value: (raw & 0x01000000) != 0
        doc: EXT4_SNAPFILE_FL, snapshot file (not in mainline).
      dax:
        value: (raw & 0x02000000) != 0
        doc: EXT4_DAX_FL, direct access on persistent memory.
      snapfile_deleted:
        value: (raw & 0x04000000) != 0
        doc: EXT4_SNAPFILE_DELETED_FL, snapshot being deleted (not in mainline).
      snapfile_shrunk:
        value: (raw & 0x08000000) != 0
        doc: EXT4_SNAPFILE_SHRUNK_FL, snapshot shrink done (not in mainline).
      inline_data:
        value: (raw & 0x10000000) != 0
        doc: EXT4_INLINE_DATA_FL, data lives in i_block and the system.data xattr.
      projinherit:
        value: (raw & 0x20000000) != 0
        doc: EXT4_PROJINHERIT_FL, children inherit the project id.
      casefold:
        value: (raw & 0x40000000) != 0
        doc: EXT4_CASEFOLD_FL, case-insensitive directory.
      reserved:
        value: (raw & 0x80000000) != 0
        doc: EXT4_RESERVED_FL, reserved for the ext4 library.
      unknown_bits:
        value: raw & ~0xff7fffff
        doc: Set bits with no name here (0x800000 is unassigned).
enums:
  file_type:
    0x1:
      id: fifo
      doc: S_IFIFO.
    0x2:
      id: chr_dev
      doc: S_IFCHR, character device.
    0x4:
      id: dir
      doc: S_IFDIR, directory.
    0x6:
      id: blk_dev
      doc: S_IFBLK, block device.
    0x8:
      id: reg_file
      doc: S_IFREG, regular file.
    0xa:
      id: symlink
      doc: S_IFLNK, symbolic link.
    0xc:
      id: socket
      doc: S_IFSOCK.
