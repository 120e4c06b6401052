meta:
  id: jbd2
  title: jbd2 journal records (superblock, descriptor tags, commit, revoke)
  license: GPL-3.0-or-later
  ks-version: '0.11'
  endian: be
doc: |
  Record layouts of the jbd2 journal that ext3/ext4 keep in inode 8 (or on
  an external device). Unlike ext4 itself, every jbd2 field is big-endian.
  The journal is a circular log of blocks: the superblock, then
  transactions, each a descriptor block (tags naming the home location of
  the data blocks that follow it) and/or revoke blocks, closed by a commit
  block. Every metadata block starts with the 12-byte `journal_header`.

  This file describes records only; the top-level type reads nothing. The
  parser reads the journal superblock from the first journal block, takes
  the tag layout from its features (`journal_superblock.tag_bytes`,
  `incompat_64bit`, `incompat_csum_v2`, `incompat_csum_v3`) and walks each
  descriptor block itself, decoding one tag at a time from a slice starting
  at the tag and stopping at LAST_TAG or when the next tag would overlap the
  block tail. Replaying or trusting any of it is the parser's decision.
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#journal-jbd2
  - Linux include/linux/jbd2.h

types:
  journal_header:
    doc: '`journal_header_t`: the common 12-byte header of every journal metadata block.'
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-header
    seq:
      - id: h_magic
        type: u4
        valid: '0xc03b3998'
        doc: Magic number 0xC03B3998 (JBD2_MAGIC_NUMBER).
      - id: h_blocktype
        type: u4
        enum: block_type
        doc: What kind of journal block this is.
      - id: h_sequence
        type: u4
        doc: Transaction id (tid) this block belongs to.

  journal_superblock:
    doc: |
      `journal_superblock_t`: the first block of the journal (1024 bytes are
      used). A version-1 superblock ends after s_errno; the v2 fields below
      are read only when the header says superblock_v2, and the feature
      instances are false for v1.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
    seq:
      - id: s_header
        type: journal_header
        valid:
          expr: _.h_blocktype == block_type::superblock_v1 or _.h_blocktype == block_type::superblock_v2
        doc: Common header; block type superblock_v1 or superblock_v2.
      - id: s_blocksize
        type: u4
        doc: Journal block size in bytes (must equal the filesystem block size).
      - id: s_maxlen
        type: u4
        doc: Total number of blocks in the journal.
      - id: s_first
        type: u4
        doc: First journal block that holds log records (the superblock is block 0).
      - id: s_sequence
        type: u4
        doc: Transaction id expected first in the log.
      - id: s_start
        type: u4
        doc: Journal block where the log starts; 0 when the journal is empty (clean).
      - id: s_errno
        type: s4
        doc: Negative errno recorded when the journal was aborted, else 0.
      - id: s_feature_compat
        type: u4
        if: is_v2
        doc: Compatible features (bit 0x1 checksum, the v1 commit-block checksum).
      - id: s_feature_incompat
        type: u4
        if: is_v2
        doc: Incompatible features (revoke, 64bit, async_commit, csum_v2, csum_v3, fast_commit).
      - id: s_feature_ro_compat
        type: u4
        if: is_v2
        doc: Read-only compatible features; none are defined.
      - id: s_uuid
        size: 16
        if: is_v2
        doc: UUID of the journal; seeds the journal checksums.
      - id: s_nr_users
        type: u4
        if: is_v2
        valid:
          max: 48
        doc: Number of filesystems sharing the journal (at most 48, the s_users slots).
      - id: s_dynsuper
        type: u4
        if: is_v2
        doc: Block of a dynamic superblock copy; unused.
      - id: s_max_transaction
        type: u4
        if: is_v2
        doc: Limit of journal blocks per transaction; unused.
      - id: s_max_trans_data
        type: u4
        if: is_v2
        doc: Limit of data blocks per transaction; unused.
      - id: s_checksum_type
        type: u1
        enum: checksum_type
        if: is_v2
        doc: Checksum algorithm of the journal (crc32c with csum_v2/v3).
      - id: s_padding2
        size: 3
        if: is_v2
        doc: Padding.
      - id: s_num_fc_blks
        type: u4
        if: is_v2
        doc: Number of fast-commit blocks at the end of the journal (0 means the default, 256).
      - id: s_head
        type: u4
        if: is_v2
        doc: Journal block of the log head, kept current only while the filesystem is clean.
      - id: s_padding
        size: 160
        if: is_v2
        doc: Forty reserved 32-bit words, zero.
      - id: s_checksum
        type: u4
        if: is_v2
        doc: crc32c of the whole 1024-byte superblock with this field zeroed (csum_v2/v3).
      - id: s_users
        size: 16
        repeat: expr
        repeat-expr: 48
        if: is_v2
        doc: UUIDs of the filesystems sharing the journal; the first s_nr_users are used.
    instances:
      is_v2:
        value: s_header.h_blocktype == block_type::superblock_v2
        doc: True for a version-2 superblock, the only one with feature fields.
      compat_checksum:
        value: is_v2 and (s_feature_compat & 0x1) != 0
        doc: JBD2_FEATURE_COMPAT_CHECKSUM, checksum v1 of each transaction in the commit block.
      incompat_revoke:
        value: is_v2 and (s_feature_incompat & 0x1) != 0
        doc: JBD2_FEATURE_INCOMPAT_REVOKE, the journal has revoke blocks.
      incompat_64bit:
        value: is_v2 and (s_feature_incompat & 0x2) != 0
        doc: JBD2_FEATURE_INCOMPAT_64BIT, tags and revoke records carry 64-bit block numbers.
      incompat_async_commit:
        value: is_v2 and (s_feature_incompat & 0x4) != 0
        doc: JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT, commit blocks are written without waiting.
      incompat_csum_v2:
        value: is_v2 and (s_feature_incompat & 0x8) != 0
        doc: JBD2_FEATURE_INCOMPAT_CSUM_V2, per-block crc32c with 16-bit tag checksums.
      incompat_csum_v3:
        value: is_v2 and (s_feature_incompat & 0x10) != 0
        doc: JBD2_FEATURE_INCOMPAT_CSUM_V3, per-block crc32c with fixed 16-byte block_tag3 tags.
      incompat_fast_commit:
        value: is_v2 and (s_feature_incompat & 0x20) != 0
        doc: JBD2_FEATURE_INCOMPAT_FAST_COMMIT, a fast-commit area follows the log.
      unknown_incompat:
        value: 'is_v2 ? s_feature_incompat & ~0x3f : 0'
        doc: Incompatible feature bits this grammar does not know; non-zero means "do not replay".
      has_csum_v2or3:
        value: incompat_csum_v2 or incompat_csum_v3
        doc: Descriptor and revoke blocks end with a 4-byte block_tail.
      tag_bytes:
        value: 'incompat_csum_v3 ? 16 : (8 + (incompat_64bit ? 4 : 0) + (incompat_csum_v2 ? 2 : 0))'
        doc: |
          Size of one tag without its UUID (journal_tag_bytes in the
          kernel): 16 with csum_v3, else 8, plus 4 with 64bit, plus 2 with
          csum_v2.

  block_tag:
    doc: |
      `journal_block_tag_t` (journals without csum_v3): where the next data
      block of the transaction belongs on disk, decoded from a slice starting
      at the tag. With csum_v2 the kernel counts 2 extra bytes per tag
      (journal_tag_bytes), read here as `csum_v2_pad`.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#descriptor-block
    params:
      - id: is_64bit
        type: bool
        doc: The journal has INCOMPAT_64BIT, so t_blocknr_high is present.
      - id: csum_v2
        type: bool
        doc: The journal has INCOMPAT_CSUM_V2, so the tag has 2 extra bytes.
    seq:
      - id: t_blocknr
        type: u4
        doc: Low 32 bits of the filesystem block the data block belongs to.
      - id: t_checksum
        type: u2
        doc: Low 16 bits of crc32c(uuid, sequence, data block) with csum_v2; else 0.
      - id: t_flags
        type: u2
        doc: Tag flags (escape, same_uuid, deleted, last_tag).
      - id: t_blocknr_high
        type: u4
        if: is_64bit
        doc: High 32 bits of the filesystem block; present only with 64bit.
      - id: csum_v2_pad
        size: 2
        if: csum_v2
        doc: Two bytes journal_tag_bytes adds with csum_v2 (a historical quirk); ignored.
      - id: uuid
        size: 16
        if: not same_uuid
        doc: UUID following the tag unless SAME_UUID is set (in practice only on the first tag).
    instances:
      blocknr:
        value: 'is_64bit ? (t_blocknr_high << 32) | t_blocknr : t_blocknr'
        doc: Filesystem block the logged data block is to be written to.
      is_escaped:
        value: (t_flags & 0x1) != 0
        doc: JBD2_FLAG_ESCAPE, the data block began with the jbd2 magic, stored as zeros.
      same_uuid:
        value: (t_flags & 0x2) != 0
        doc: JBD2_FLAG_SAME_UUID, no UUID follows this tag.
      is_deleted:
        value: (t_flags & 0x4) != 0
        doc: JBD2_FLAG_DELETED, the block was deleted by this transaction.
      is_last_tag:
        value: (t_flags & 0x8) != 0
        doc: JBD2_FLAG_LAST_TAG, the last tag in this descriptor block.
      size_on_disk:
        value: '8 + (is_64bit ? 4 : 0) + (csum_v2 ? 2 : 0) + (same_uuid ? 0 : 16)'
        doc: Bytes this tag occupies including its UUID, the step to the next tag.

  block_tag3:
    doc: |
      `journal_block_tag3_t` (journals with csum_v3): a fixed 16-byte tag
      with a full 32-bit checksum, decoded from a slice starting at the tag.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#descriptor-block
    params:
      - id: is_64bit
        type: bool
        doc: The journal has INCOMPAT_64BIT, so t_blocknr_high is meaningful.
    seq:
      - id: t_blocknr
        type: u4
        doc: Low 32 bits of the filesystem block the data block belongs to.
      - id: t_flags
        type: u4
        doc: Tag flags (escape, same_uuid, deleted, last_tag).
      - id: t_blocknr_high
        type: u4
        doc: High 32 bits of the filesystem block; used only with 64bit.
      - id: t_checksum
        type: u4
        doc: crc32c(uuid, sequence, data block).
      - id: uuid
        size: 16
        if: not same_uuid
        doc: UUID following the tag unless SAME_UUID is set.
    instances:
      blocknr:
        value: 'is_64bit ? (t_blocknr_high << 32) | t_blocknr : t_blocknr'
        doc: Filesystem block the logged data block is to be written to.
      is_escaped:
        value: (t_flags & 0x1) != 0
        doc: JBD2_FLAG_ESCAPE, the data block began with the jbd2 magic, stored as zeros.
      same_uuid:
        value: (t_flags & 0x2) != 0
        doc: JBD2_FLAG_SAME_UUID, no UUID follows this tag.
      is_deleted:
        value: (t_flags & 0x4) != 0
        doc: JBD2_FLAG_DELETED, the block was deleted by this transaction.
      is_last_tag:
        value: (t_flags & 0x8) != 0
        doc: JBD2_FLAG_LAST_TAG, the last tag in this descriptor block.
      size_on_disk:
        value: '16 + (same_uuid ? 0 : 16)'
        doc: Bytes this tag occupies including its UUID, the step to the next tag.

  block_tail:
    doc: |
      `struct jbd2_journal_block_tail` (and the revoke tail, which has the
      same layout): the last 4 bytes of a descriptor or revoke block with
      csum_v2/v3. Decode it from exactly those 4 bytes.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#descriptor-block
    seq:
      - id: t_checksum
        type: u4
        doc: crc32c(journal uuid, block with this field zeroed).

  commit_header:
    doc: |
      `struct commit_header`: the block that closes a transaction; only
      transactions with a valid commit block are replayed.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#commit-block
    seq:
      - id: header
        type: journal_header
        valid:
          expr: _.h_blocktype == block_type::commit
        doc: Common header with block type commit.
      - id: h_chksum_type
        type: u1
        enum: checksum_type
        doc: Algorithm of h_chksum with COMPAT_CHECKSUM (v1); 0 otherwise.
      - id: h_chksum_size
        type: u1
        doc: Bytes of h_chksum in use with COMPAT_CHECKSUM (4 for crc32); 0 otherwise.
      - id: h_padding
        size: 2
        doc: Padding.
      - id: h_chksum
        type: u4
        repeat: expr
        repeat-expr: 8
        doc: |
          Checksum space (32 bytes). With csum_v2/v3 h_chksum[0] is crc32c(uuid,
          commit block); with COMPAT_CHECKSUM it is the crc32 of the transaction.
      - id: h_commit_sec
        type: u8
        doc: Commit time, seconds since the epoch.
      - id: h_commit_nsec
        type: u4
        doc: Nanoseconds part of the commit time.

  revoke_header:
    doc: |
      `jbd2_journal_revoke_header_t` and the records after it: filesystem
      blocks whose earlier logged copies must not be replayed. Decoded from
      the whole revoke block; r_count is bounded by the block size before the
      records are read, so their number is at most (block size - 16) / 4.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#revocation-block
    params:
      - id: is_64bit
        type: bool
        doc: The journal has INCOMPAT_64BIT, so records are 8 bytes, else 4.
    seq:
      - id: r_header
        type: journal_header
        valid:
          expr: _.h_blocktype == block_type::revoke
        doc: Common header with block type revoke.
      - id: r_count
        type: u4
        valid:
          min: 16
          max: _io.size
        doc: Bytes of the block in use, including this 16-byte header.
      - id: blocks
        type:
          switch-on: is_64bit
          cases:
            true: u8
            false: u4
        repeat: expr
        repeat-expr: '(r_count - 16) / (is_64bit ? 8 : 4)'
        doc: Revoked filesystem block numbers (a partial trailing record is ignored).

enums:
  block_type:
    1:
      id: descriptor
      doc: Descriptor block; tags describing the data blocks that follow.
    2:
      id: commit
      doc: Commit block closing a transaction.
    3:
      id: superblock_v1
      doc: Journal superblock, version 1.
    4:
      id: superblock_v2
      doc: Journal superblock, version 2.
    5:
      id: revoke
      doc: Revoke block; filesystem blocks not to replay from earlier transactions.

  checksum_type:
    1:
      id: crc32
      doc: CRC32.
    2:
      id: md5
      doc: MD5.
    3:
      id: sha1
      doc: SHA-1.
    4:
      id: crc32c
      doc: CRC32C (Castagnoli), used by csum_v2/v3.
