meta:
  id: ext4_superblock
  title: ext2/ext3/ext4 superblock (struct ext4_super_block)
  file-extension: [img, ext4, ext3, ext2]
  license: GPL-3.0-or-later
  ks-version: 0.11
  endian: le
  bit-endian: le
doc: |
  The 1024-byte ext2/3/4 superblock, decoded from exactly the 1024-byte slice
  that starts at byte 1024 of the image (or at the start of a backup group).

  Only layout lives here: the defensive parser (parser/*.py) decides which
  copy to read, checks the cross-field rules (s_first_data_block below the
  block count, s_log_cluster_size equal to s_log_block_size without bigalloc,
  inode and group counts that agree, checksum...) and turns the kaitaistruct
  errors raised below into typed corruption errors.

  `valid:` rejects only values that make the record meaningless and that
  would otherwise reach arithmetic: the magic, the revision, the block and
  cluster size shifts, the per-group counts (divisors) and, where they are
  used, the inode and group descriptor sizes. The bounds are the kernel's
  (fs/ext4/super.c).

  Field names are those of struct ext4_super_block in fs/ext4/ext4.h, so
  every field can be grepped against the kernel documentation.
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
  - https://git.kernel.org/pub/scm/fs/ext2/e2fsprogs.git/tree/lib/ext2fs/ext2_fs.h (struct ext2_super_block)
seq:
  # 0x00
  - id: s_inodes_count
    type: u4
    doc: Total number of inodes in the filesystem.
  - id: s_blocks_count_lo
    type: u4
    doc: Total number of blocks, low 32 bits (see `blocks_count`).
  - id: s_r_blocks_count_lo
    type: u4
    doc: Blocks reserved for the super-user, low 32 bits (see `r_blocks_count`).
  - id: s_free_blocks_count_lo
    type: u4
    doc: Free blocks, low 32 bits (see `free_blocks_count`).
  # 0x10
  - id: s_free_inodes_count
    type: u4
    doc: Free inodes.
  - id: s_first_data_block
    type: u4
    doc: |
      Block number of the block holding this superblock: 1 with 1 KiB blocks,
      0 otherwise. Group 0 starts here.
  - id: s_log_block_size
    type: u4
    valid:
      max: 6
    doc: |
      Block size is 1024 << s_log_block_size. The kernel refuses anything
      above 6 (64 KiB blocks).
  - id: s_log_cluster_size
    type: u4
    valid:
      max: 20
    doc: |
      Cluster size is 1024 << s_log_cluster_size with bigalloc; without
      bigalloc it must equal s_log_block_size. The kernel refuses anything
      above 20 (EXT4_MAX_CLUSTER_LOG_SIZE - EXT4_MIN_BLOCK_LOG_SIZE).
  # 0x20
  - id: s_blocks_per_group
    type: u4
    valid:
      min: 1
    doc: Blocks in each block group (a divisor, never zero).
  - id: s_clusters_per_group
    type: u4
    valid:
      min: 1
      max: 8192 << s_log_block_size
    doc: |
      Clusters in each block group; equals s_blocks_per_group without bigalloc.
      At most one block bitmap's worth (8 * block size), as the kernel checks.
  - id: s_inodes_per_group
    type: u4
    valid:
      min: 1
      max: 8192 << s_log_block_size
    doc: |
      Inodes in each block group (a divisor, never zero). At most one inode
      bitmap's worth (8 * block size), as the kernel checks.
  - id: s_mtime
    type: u4
    doc: Last mount time, seconds since the epoch, low 32 bits (see `mtime`).
  # 0x30
  - id: s_wtime
    type: u4
    doc: Last write time, seconds since the epoch, low 32 bits (see `wtime`).
  - id: s_mnt_count
    type: u2
    doc: Mounts since the last fsck.
  - id: s_max_mnt_count
    type: s2
    doc: Mounts allowed before a fsck is due; -1 disables the check.
  - id: s_magic
    type: u2
    valid: 0xef53
    doc: Magic signature, 0xEF53 (EXT4_SUPER_MAGIC).
  - id: s_state
    type: u2
    enum: fs_state
    doc: |
      Filesystem state, a bit set (see `state_*`): clean unmount, errors seen,
      orphans being recovered. A combination resolves to a plain integer.
  - id: s_errors
    type: u2
    enum: errors_policy
    doc: What the kernel does when it detects an error.
  - id: s_minor_rev_level
    type: u2
    doc: Minor revision level.
  # 0x40
  - id: s_lastcheck
    type: u4
    doc: Time of the last fsck, seconds since the epoch, low 32 bits (see `lastcheck`).
  - id: s_checkinterval
    type: u4
    doc: Maximum seconds between two fscks; 0 disables the check.
  - id: s_creator_os
    type: u4
    enum: creator_os
    doc: Operating system that created the filesystem; selects the osd1/osd2 inode layout.
  - id: s_rev_level
    type: u4
    valid:
      max: 1
    doc: |
      Revision level: 0 is the original fixed format (128-byte inodes, first
      inode 11, no feature words), 1 the dynamic format. Higher values are
      refused by the kernel and e2fsprogs.
  # 0x50
  - id: s_def_resuid
    type: u2
    doc: Default user id allowed to use the reserved blocks.
  - id: s_def_resgid
    type: u2
    doc: Default group id allowed to use the reserved blocks.
  # Fields below are defined for s_rev_level >= 1 (EXT4_DYNAMIC_REV) only.
  - id: s_first_ino
    type: u4
    doc: |
      First non-reserved inode number (rev 1 only; rev 0 uses 11, see
      `first_ino`).
  - id: s_inode_size
    type: u2
    valid:
      expr: s_rev_level == 0 or (_ >= 128 and _ <= block_size and (_ & (_ - 1)) == 0)
    doc: |
      Size of one inode record in the inode table (rev 1 only; rev 0 uses 128,
      see `inode_size`). A power of two from 128 to the block size.
  - id: s_block_group_nr
    type: u2
    doc: Number of the block group that holds this copy of the superblock.
  - id: s_feature_compat
    type: compat_features
    doc: Compatible features; an unknown bit still allows reading and writing.
  # 0x60
  - id: s_feature_incompat
    type: incompat_features
    doc: Incompatible features; an unknown bit forbids mounting at all.
  - id: s_feature_ro_compat
    type: ro_compat_features
    doc: Read-only compatible features; an unknown bit allows a read-only mount.
  - id: s_uuid
    size: 16
    doc: 128-bit filesystem UUID; part of every metadata_csum checksum unless csum_seed.
  # 0x78
  - id: s_volume_name
    size: 16
    doc: Volume label, NUL-padded bytes (not necessarily terminated nor valid UTF-8).
  # 0x88
  - id: s_last_mounted
    size: 64
    doc: Path where the filesystem was last mounted, NUL-padded bytes.
  # 0xC8
  - id: s_algorithm_usage_bitmap
    type: u4
    doc: Compression algorithms in use (never used by Linux).
  - id: s_prealloc_blocks
    type: u1
    doc: Blocks to try to preallocate for files (unused by Linux).
  - id: s_prealloc_dir_blocks
    type: u1
    doc: Blocks to preallocate for directories (with compat dir_prealloc; unused by Linux).
  - id: s_reserved_gdt_blocks
    type: u2
    doc: Blocks reserved after each group descriptor table copy for online growth.
  # 0xD0
  - id: s_journal_uuid
    size: 16
    doc: UUID of the journal superblock (external journal).
  # 0xE0
  - id: s_journal_inum
    type: u4
    doc: Inode number of the internal journal (compat has_journal), normally 8.
  - id: s_journal_dev
    type: u4
    doc: Device number of an external journal.
  - id: s_last_orphan
    type: u4
    doc: Head of the orphan inode list (inodes linked through i_dtime).
  - id: s_hash_seed
    type: u4
    repeat: expr
    repeat-expr: 4
    doc: Seed for the directory index (htree) hash, four 32-bit words.
  # 0xFC
  - id: s_def_hash_version
    type: u1
    enum: hash_version
    doc: Default hash algorithm for new directory indexes.
  - id: s_jnl_backup_type
    type: u1
    doc: 0 or 1 (EXT3_JNL_BACKUP_BLOCKS) when s_jnl_blocks holds a copy of the journal inode.
  - id: s_desc_size
    type: u2
    valid:
      expr: not s_feature_incompat.is_64bit or (_ >= 64 and _ <= 1024 and (_ & (_ - 1)) == 0)
    doc: |
      Size of a group descriptor with incompat 64bit: a power of two from 64
      to 1024. Ignored (descriptors are 32 bytes) without 64bit; see
      `desc_size`.
  # 0x100
  - id: s_default_mount_opts
    type: u4
    doc: Default mount options (EXT4_DEFM_* bits).
  - id: s_first_meta_bg
    type: u4
    doc: First block group using the meta_bg descriptor layout (incompat meta_bg).
  - id: s_mkfs_time
    type: u4
    doc: Filesystem creation time, seconds since the epoch, low 32 bits (see `mkfs_time`).
  - id: s_jnl_blocks
    type: u4
    repeat: expr
    repeat-expr: 17
    doc: |
      Backup of the journal inode: its i_block words in the first 15 entries,
      then i_size_high and i_size.
  # 0x150: 64bit support, meaningful with incompat 64bit only.
  - id: s_blocks_count_hi
    type: u4
    doc: Total number of blocks, high 32 bits (incompat 64bit only).
  - id: s_r_blocks_count_hi
    type: u4
    doc: Reserved blocks, high 32 bits (incompat 64bit only).
  - id: s_free_blocks_count_hi
    type: u4
    doc: Free blocks, high 32 bits (incompat 64bit only).
  - id: s_min_extra_isize
    type: u2
    doc: Every inode has at least this many bytes of extra fields (i_extra_isize).
  - id: s_want_extra_isize
    type: u2
    doc: New inodes should get this many bytes of extra fields.
  # 0x160
  - id: s_flags
    type: u4
    doc: Miscellaneous flags; 0x1 signed and 0x2 unsigned directory hash, 0x4 test filesystem.
  - id: s_raid_stride
    type: u2
    doc: RAID stride in blocks (allocation hint).
  - id: s_mmp_update_interval
    type: u2
    doc: Seconds between multi-mount protection updates (incompat mmp).
  - id: s_mmp_block
    type: u8
    doc: Block holding the multi-mount protection record (incompat mmp).
  # 0x170
  - id: s_raid_stripe_width
    type: u4
    doc: RAID stripe width in blocks (allocation hint).
  - id: s_log_groups_per_flex
    type: u1
    doc: |
      A flex group is 2 ^ s_log_groups_per_flex block groups (incompat
      flex_bg). The kernel ignores flex grouping outside 1..31.
  - id: s_checksum_type
    type: u1
    enum: checksum_type
    doc: Metadata checksum algorithm; only crc32c (1) exists.
  - id: s_encryption_level
    type: u1
    doc: Version of the encryption support.
  - id: s_reserved_pad
    type: u1
    doc: Padding.
  - id: s_kbytes_written
    type: u8
    doc: KiB written to the filesystem over its lifetime.
  # 0x180
  - id: s_snapshot_inum
    type: u4
    doc: Inode of the active snapshot (not in mainline).
  - id: s_snapshot_id
    type: u4
    doc: Sequential id of the active snapshot (not in mainline).
  - id: s_snapshot_r_blocks_count
    type: u8
    doc: Blocks reserved for the active snapshot (not in mainline).
  # 0x190
  - id: s_snapshot_list
    type: u4
    doc: Head of the on-disk snapshot list (not in mainline).
  - id: s_error_count
    type: u4
    doc: Number of errors recorded.
  - id: s_first_error_time
    type: u4
    doc: Time of the first error, low 32 bits (see `first_error_time`).
  - id: s_first_error_ino
    type: u4
    doc: Inode involved in the first error.
  # 0x1A0
  - id: s_first_error_block
    type: u8
    doc: Block involved in the first error.
  - id: s_first_error_func
    size: 32
    doc: Kernel function of the first error, NUL-padded bytes.
  # 0x1C8
  - id: s_first_error_line
    type: u4
    doc: Source line of the first error.
  - id: s_last_error_time
    type: u4
    doc: Time of the latest error, low 32 bits (see `last_error_time`).
  # 0x1D0
  - id: s_last_error_ino
    type: u4
    doc: Inode involved in the latest error.
  - id: s_last_error_line
    type: u4
    doc: Source line of the latest error.
  - id: s_last_error_block
    type: u8
    doc: Block involved in the latest error.
  # 0x1E0
  - id: s_last_error_func
    size: 32
    doc: Kernel function of the latest error, NUL-padded bytes.
  # 0x200
  - id: s_mount_opts
    size: 64
    doc: Default mount options as a NUL-padded string.
  # 0x240
  - id: s_usr_quota_inum
    type: u4
    doc: Inode of the user quota file (ro_compat quota).
  - id: s_grp_quota_inum
    type: u4
    doc: Inode of the group quota file (ro_compat quota).
  - id: s_overhead_clusters
    type: u4
    doc: Metadata overhead in clusters; 0 lets the kernel compute it.
  - id: s_backup_bgs
    type: u4
    repeat: expr
    repeat-expr: 2
    doc: The two groups holding backup superblocks (compat sparse_super2).
  # 0x254
  - id: s_encrypt_algos
    type: u1
    enum: encryption_mode
    repeat: expr
    repeat-expr: 4
    doc: Encryption algorithms in use, up to four.
  - id: s_encrypt_pw_salt
    size: 16
    doc: Salt for the string-to-key function of (legacy) encryption.
  # 0x268
  - id: s_lpf_ino
    type: u4
    doc: Inode number of lost+found.
  - id: s_prj_quota_inum
    type: u4
    doc: Inode of the project quota file (ro_compat project).
  # 0x270
  - id: s_checksum_seed
    type: u4
    doc: |
      crc32c(~0, original s_uuid), the seed of every metadata checksum when
      incompat csum_seed is set; without it the seed is computed from s_uuid.
  - id: s_wtime_hi
    type: u1
    doc: Write time, bits 32..39.
  - id: s_mtime_hi
    type: u1
    doc: Mount time, bits 32..39.
  - id: s_mkfs_time_hi
    type: u1
    doc: Creation time, bits 32..39.
  - id: s_lastcheck_hi
    type: u1
    doc: Last fsck time, bits 32..39.
  - id: s_first_error_time_hi
    type: u1
    doc: First error time, bits 32..39.
  - id: s_last_error_time_hi
    type: u1
    doc: Latest error time, bits 32..39.
  - id: s_first_error_errcode
    type: u1
    doc: Error code (EXT4_ERR_*) of the first error.
  - id: s_last_error_errcode
    type: u1
    doc: Error code (EXT4_ERR_*) of the latest error.
  # 0x27C
  - id: s_encoding
    type: u2
    enum: encoding
    doc: Filename character encoding for case-insensitive directories (incompat casefold).
  - id: s_encoding_flags
    type: u2
    doc: Encoding flags; 0x1 (EXT4_ENC_STRICT_MODE_FL) rejects invalid names.
  # 0x280
  - id: s_orphan_file_inum
    type: u4
    doc: Inode of the orphan file (compat orphan_file).
  - id: s_reserved
    size: 376
    doc: Padding to the end of the record (94 zero words).
  # 0x3FC
  - id: s_checksum
    type: u4
    doc: crc32c of the superblock up to this field (ro_compat metadata_csum).
instances:
  block_size:
    value: 1024 << s_log_block_size
    doc: Block size in bytes, 1 KiB to 64 KiB (bounded by the valid on s_log_block_size).
  cluster_size:
    value: 1024 << s_log_cluster_size
    doc: Cluster size in bytes (bigalloc); equal to block_size otherwise.
  blocks_count:
    value: 's_feature_incompat.is_64bit ? (s_blocks_count_hi << 32) | s_blocks_count_lo : s_blocks_count_lo'
    doc: Total blocks; the high half counts only with incompat 64bit.
  r_blocks_count:
    value: 's_feature_incompat.is_64bit ? (s_r_blocks_count_hi << 32) | s_r_blocks_count_lo : s_r_blocks_count_lo'
    doc: Reserved blocks; the high half counts only with incompat 64bit.
  free_blocks_count:
    value: 's_feature_incompat.is_64bit ? (s_free_blocks_count_hi << 32) | s_free_blocks_count_lo : s_free_blocks_count_lo'
    doc: Free blocks; the high half counts only with incompat 64bit.
  group_count:
    value: 'blocks_count > s_first_data_block ? (blocks_count - s_first_data_block + s_blocks_per_group - 1) / s_blocks_per_group : 0'
    doc: |
      Number of block groups, ceil((blocks_count - s_first_data_block) /
      s_blocks_per_group); 0 when the block count does not exceed the first
      data block (corrupt). s_blocks_per_group >= 1 is guaranteed by valid.
  desc_size:
    value: 's_feature_incompat.is_64bit ? s_desc_size : 32'
    doc: Bytes per group descriptor (EXT4_DESC_SIZE).
  inode_size:
    value: 's_rev_level == 0 ? 128 : s_inode_size'
    doc: Bytes per inode record in the inode table (EXT4_INODE_SIZE).
  first_ino:
    value: 's_rev_level == 0 ? 11 : s_first_ino'
    doc: First non-reserved inode (EXT4_FIRST_INO).
  wtime:
    value: (s_wtime_hi << 32) | s_wtime
    doc: Last write time, seconds since the epoch (40 bits).
  mtime:
    value: (s_mtime_hi << 32) | s_mtime
    doc: Last mount time, seconds since the epoch (40 bits).
  mkfs_time:
    value: (s_mkfs_time_hi << 32) | s_mkfs_time
    doc: Creation time, seconds since the epoch (40 bits).
  lastcheck:
    value: (s_lastcheck_hi << 32) | s_lastcheck
    doc: Last fsck time, seconds since the epoch (40 bits).
  first_error_time:
    value: (s_first_error_time_hi << 32) | s_first_error_time
    doc: First error time, seconds since the epoch (40 bits).
  last_error_time:
    value: (s_last_error_time_hi << 32) | s_last_error_time
    doc: Latest error time, seconds since the epoch (40 bits).
  state_valid_fs:
    value: (s_state.to_i & 0x0001) != 0
    doc: EXT4_VALID_FS, cleanly unmounted.
  state_error_fs:
    value: (s_state.to_i & 0x0002) != 0
    doc: EXT4_ERROR_FS, errors were detected.
  state_orphan_fs:
    value: (s_state.to_i & 0x0004) != 0
    doc: EXT4_ORPHAN_FS, orphans are being recovered.
types:
  compat_features:
    doc: |
      s_feature_compat: the raw word plus one boolean per defined bit
      (EXT4_FEATURE_COMPAT_*). `unknown_bits` are the bits this grammar does
      not name.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
    seq:
      - id: raw
        type: u4
        doc: The s_feature_compat word as stored.
    instances:
      dir_prealloc:
        value: (raw & 0x0001) != 0
        doc: COMPAT_DIR_PREALLOC, preallocate directory blocks.
      imagic_inodes:
        value: (raw & 0x0002) != 0
        doc: COMPAT_IMAGIC_INODES, AFS magic directories.
      has_journal:
        value: (raw & 0x0004) != 0
        doc: COMPAT_HAS_JOURNAL, there is a jbd2 journal (s_journal_inum or s_journal_uuid).
      ext_attr:
        value: (raw & 0x0008) != 0
        doc: COMPAT_EXT_ATTR, extended attributes are in use.
      resize_inode:
        value: (raw & 0x0010) != 0
        doc: COMPAT_RESIZE_INODE, reserved GDT blocks owned by inode 7.
      dir_index:
        value: (raw & 0x0020) != 0
        doc: COMPAT_DIR_INDEX, directories may carry a hash tree index.
      lazy_bg:
        value: (raw & 0x0040) != 0
        doc: COMPAT_LAZY_BG, uninitialised groups (obsolete, e2fsprogs only).
      exclude_inode:
        value: (raw & 0x0080) != 0
        doc: COMPAT_EXCLUDE_INODE, snapshot exclude inode (unused).
      exclude_bitmap:
        value: (raw & 0x0100) != 0
        doc: COMPAT_EXCLUDE_BITMAP, snapshot exclude bitmaps (not in mainline).
      sparse_super2:
        value: (raw & 0x0200) != 0
        doc: COMPAT_SPARSE_SUPER2, backup superblocks only in s_backup_bgs.
      fast_commit:
        value: (raw & 0x0400) != 0
        doc: COMPAT_FAST_COMMIT, the journal may hold fast-commit blocks.
      stable_inodes:
        value: (raw & 0x0800) != 0
        doc: COMPAT_STABLE_INODES, inode numbers never change (encryption policies rely on it).
      orphan_file:
        value: (raw & 0x1000) != 0
        doc: COMPAT_ORPHAN_FILE, orphans are tracked in the file s_orphan_file_inum.
      unknown_bits:
        value: raw & ~0x1fff
        doc: Set bits with no name here.
  incompat_features:
    doc: |
      s_feature_incompat: the raw word plus one boolean per defined bit
      (EXT4_FEATURE_INCOMPAT_*). A reader must refuse an image with an
      incompat bit it does not implement; `unknown_bits` are the bits this
      grammar does not name.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
    seq:
      - id: raw
        type: u4
        doc: The s_feature_incompat word as stored.
    instances:
      compression:
        value: (raw & 0x0001) != 0
        doc: INCOMPAT_COMPRESSION, compressed files (never implemented in Linux).
      filetype:
        value: (raw & 0x0002) != 0
        doc: INCOMPAT_FILETYPE, directory entries carry a file type byte.
      recover:
        value: (raw & 0x0004) != 0
        doc: INCOMPAT_RECOVER, the journal needs replaying.
      journal_dev:
        value: (raw & 0x0008) != 0
        doc: INCOMPAT_JOURNAL_DEV, this is an external journal device, not a filesystem.
      meta_bg:
        value: (raw & 0x0010) != 0
        doc: INCOMPAT_META_BG, group descriptors spread over meta groups from s_first_meta_bg.
      extents:
        value: (raw & 0x0040) != 0
        doc: INCOMPAT_EXTENTS, files may use extent trees.
      is_64bit:
        value: (raw & 0x0080) != 0
        doc: INCOMPAT_64BIT, 64-bit block numbers and s_desc_size-byte group descriptors.
      mmp:
        value: (raw & 0x0100) != 0
        doc: INCOMPAT_MMP, multi-mount protection block at s_mmp_block.
      flex_bg:
        value: (raw & 0x0200) != 0
        doc: INCOMPAT_FLEX_BG, bitmaps and inode tables may live outside their group.
      ea_inode:
        value: (raw & 0x0400) != 0
        doc: INCOMPAT_EA_INODE, large xattr values stored in their own inodes.
      dirdata:
        value: (raw & 0x1000) != 0
        doc: INCOMPAT_DIRDATA, data in directory entries (Lustre, not in mainline).
      csum_seed:
        value: (raw & 0x2000) != 0
        doc: INCOMPAT_CSUM_SEED, metadata checksums are seeded by s_checksum_seed.
      largedir:
        value: (raw & 0x4000) != 0
        doc: INCOMPAT_LARGEDIR, directories over 2 GiB and 3-level hash trees.
      inline_data:
        value: (raw & 0x8000) != 0
        doc: INCOMPAT_INLINE_DATA, small files and directories stored inside the inode.
      encrypt:
        value: (raw & 0x10000) != 0
        doc: INCOMPAT_ENCRYPT, encrypted inodes may exist.
      casefold:
        value: (raw & 0x20000) != 0
        doc: INCOMPAT_CASEFOLD, case-insensitive directories using s_encoding.
      unknown_bits:
        value: raw & ~0x3f7df
        doc: Set bits with no name here (0x20 and 0x800 are unassigned).
  ro_compat_features:
    doc: |
      s_feature_ro_compat: the raw word plus one boolean per defined bit
      (EXT4_FEATURE_RO_COMPAT_*). An unknown bit still allows reading;
      `unknown_bits` are the bits this grammar does not name.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
    seq:
      - id: raw
        type: u4
        doc: The s_feature_ro_compat word as stored.
    instances:
      sparse_super:
        value: (raw & 0x0001) != 0
        doc: RO_COMPAT_SPARSE_SUPER, backups only in groups 0, 1 and powers of 3, 5 and 7.
      large_file:
        value: (raw & 0x0002) != 0
        doc: RO_COMPAT_LARGE_FILE, files over 2 GiB exist (i_size_high in use).
      btree_dir:
        value: (raw & 0x0004) != 0
        doc: RO_COMPAT_BTREE_DIR, never used.
      huge_file:
        value: (raw & 0x0008) != 0
        doc: RO_COMPAT_HUGE_FILE, i_blocks is 48 bits and may count filesystem blocks.
      gdt_csum:
        value: (raw & 0x0010) != 0
        doc: RO_COMPAT_GDT_CSUM, group descriptors carry a crc16.
      dir_nlink:
        value: (raw & 0x0020) != 0
        doc: RO_COMPAT_DIR_NLINK, a directory link count of 1 means "more than 64999".
      extra_isize:
        value: (raw & 0x0040) != 0
        doc: RO_COMPAT_EXTRA_ISIZE, every inode has s_min_extra_isize extra bytes.
      has_snapshot:
        value: (raw & 0x0080) != 0
        doc: RO_COMPAT_HAS_SNAPSHOT, snapshots (not in mainline).
      quota:
        value: (raw & 0x0100) != 0
        doc: RO_COMPAT_QUOTA, quota files in hidden inodes.
      bigalloc:
        value: (raw & 0x0200) != 0
        doc: RO_COMPAT_BIGALLOC, allocation in clusters of 2 ^ (s_log_cluster_size - s_log_block_size) blocks.
      metadata_csum:
        value: (raw & 0x0400) != 0
        doc: RO_COMPAT_METADATA_CSUM, crc32c checksums on all metadata.
      replica:
        value: (raw & 0x0800) != 0
        doc: RO_COMPAT_REPLICA, replicas (not in mainline).
      readonly:
        value: (raw & 0x1000) != 0
        doc: RO_COMPAT_READONLY, the image must only be mounted read-only.
      project:
        value: (raw & 0x2000) != 0
        doc: RO_COMPAT_PROJECT, project quotas and i_projid.
      shared_blocks:
        value: (raw & 0x4000) != 0
        doc: RO_COMPAT_SHARED_BLOCKS, blocks may be shared between files (deduplicated image).
      verity:
        value: (raw & 0x8000) != 0
        doc: RO_COMPAT_VERITY, fs-verity files may exist.
      orphan_present:
        value: (raw & 0x10000) != 0
        doc: RO_COMPAT_ORPHAN_PRESENT, the orphan file may hold entries to clean up.
      unknown_bits:
        value: raw & ~0x1ffff
        doc: Set bits with no name here.
enums:
  fs_state:
    1:
      id: valid_fs
      doc: EXT4_VALID_FS, cleanly unmounted.
    2:
      id: error_fs
      doc: EXT4_ERROR_FS, errors detected.
    4:
      id: orphan_fs
      doc: EXT4_ORPHAN_FS, orphans being recovered.
  errors_policy:
    1:
      id: continue_execution
      doc: EXT4_ERRORS_CONTINUE, keep going.
    2:
      id: remount_ro
      doc: EXT4_ERRORS_RO, remount read-only.
    3:
      id: panic
      doc: EXT4_ERRORS_PANIC, panic the kernel.
  creator_os:
    0: linux
    1: hurd
    2: masix
    3: freebsd
    4: lites
  hash_version:
    0:
      id: legacy
      doc: DX_HASH_LEGACY.
    1:
      id: half_md4
      doc: DX_HASH_HALF_MD4.
    2:
      id: tea
      doc: DX_HASH_TEA.
    3:
      id: legacy_unsigned
      doc: DX_HASH_LEGACY_UNSIGNED (in memory only; chosen by s_flags on disk).
    4:
      id: half_md4_unsigned
      doc: DX_HASH_HALF_MD4_UNSIGNED (in memory only).
    5:
      id: tea_unsigned
      doc: DX_HASH_TEA_UNSIGNED (in memory only).
    6:
      id: siphash
      doc: DX_HASH_SIPHASH, for encrypted case-insensitive directories.
  checksum_type:
    1:
      id: crc32c
      doc: EXT4_CRC32C_CHKSUM.
  encoding:
    1:
      id: utf8
      doc: EXT4_ENC_UTF8_12_1, UTF-8 (Unicode 12.1).
  encryption_mode:
    0: invalid
    1: aes_256_xts
    2: aes_256_gcm
    3: aes_256_cbc
    4: aes_256_cts
