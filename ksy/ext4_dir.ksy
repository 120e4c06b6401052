meta:
  id: ext4_dir
  title: ext4 linear directory records (dirent, checksum tail)
  license: GPL-3.0-or-later
  ks-version: '0.11'
  endian: le
doc: |
  Record layouts of a linear (classic) ext4 directory block: a chain of
  variable-length `ext4_dir_entry_2` records, each saying how far away the
  next one starts (`rec_len`), optionally closed by a 12-byte fake entry that
  carries the block checksum (`ext4_dir_entry_tail`, with metadata_csum).

  This file describes records only; the top-level type reads nothing. The
  parser walks a block itself: it hands `dir_entry_2` a slice that starts at
  the entry and ends at the end of the block (or of the inline-data area),
  checks the decoded `rec_len_bytes` against the room left and its own
  alignment rules, and steps by it. Never `repeat: eos` over dirents: a
  hostile rec_len chain is the parser's to bound. It also decides whether the
  last 12 bytes of a block are a `dir_entry_tail`.

  Without the `filetype` feature the entry is `struct ext4_dir_entry`, whose
  16-bit name length has a high byte that is always 0; reading it as
  `ext4_dir_entry_2` gives the same name and a `file_type` of 0 (unknown),
  which the parser ignores when the feature is off.
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#linear-classic-directories
  - e2fsprogs lib/ext2fs/ext2_fs.h (struct ext2_dir_entry_2, struct ext2_dir_entry_tail)

types:
  dir_entry_2:
    doc: |
      `struct ext4_dir_entry_2`: one directory entry. `inode == 0` marks an
      unused entry whose `rec_len` still counts. The name is raw bytes: ext4
      names may hold any byte except '/' and NUL, in no particular encoding,
      so it is never decoded here.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#linear-classic-directories
    seq:
      - id: inode
        type: u4
        doc: Inode number the entry names; 0 means the slot is unused.
      - id: rec_len
        type: u2
        valid:
          expr: _ >= 12 and (_ % 4 == 0 or _ == 65535)
        doc: |
          Distance in bytes from this entry to the next one (or to the end
          of the block). At least 12 and a multiple of 4, except the value
          65535 that 64 KiB-block filesystems store for a 65536-byte entry
          (EXT4_MAX_REC_LEN); use `rec_len_bytes`.
      - id: name_len
        type: u1
        valid:
          max: rec_len_bytes - 8
        doc: Length of the name in bytes; the 8-byte fixed part plus the name fit in rec_len.
      - id: file_type
        type: u1
        enum: file_type
        doc: |
          Type of the named inode (with the filetype feature), so that a
          listing needs no inode read. 0xDE in a 12-byte entry with inode 0
          and name_len 0 marks the checksum tail instead.
      - id: name
        size: name_len
        doc: The name, raw bytes without a terminator.
    instances:
      rec_len_bytes:
        value: 'rec_len == 65535 ? 65536 : rec_len'
        doc: |
          rec_len decoded to a byte count (ext4_rec_len_from_disk): 65535
          stands for 65536, the whole of a 64 KiB block. The parser must still
          check it against the bytes left in the block.
      is_unused:
        value: inode == 0
        doc: True for a deleted or placeholder entry that names nothing.

  dir_entry_tail:
    doc: |
      `struct ext4_dir_entry_tail`: the fake 12-byte entry occupying the last
      12 bytes of a linear directory block with metadata_csum. To an old
      reader it looks like an unused entry (inode 0, rec_len 12, name_len 0);
      the 0xDE type byte identifies it. Decode it from exactly those last 12
      bytes; a validation failure just means the block has no tail.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#linear-classic-directories
    seq:
      - id: det_reserved_zero1
        type: u4
        valid: 0
        doc: Where a dirent has its inode number; always 0 (an unused entry).
      - id: det_rec_len
        type: u2
        valid: 12
        doc: Where a dirent has rec_len; always 12.
      - id: det_reserved_zero2
        type: u1
        valid: 0
        doc: Where a dirent has name_len; always 0.
      - id: det_reserved_ft
        type: u1
        valid: 0xde
        doc: Where a dirent has file_type; always 0xDE (EXT4_FT_DIR_CSUM).
      - id: det_checksum
        type: u4
        doc: |
          crc32c of the block bytes before the tail, seeded with the
          directory inode's checksum seed (filesystem seed, inode number,
          generation).

enums:
  file_type:
    0:
      id: unknown
      doc: Type not recorded (or the filetype feature is off).
    1:
      id: reg_file
      doc: Regular file.
    2:
      id: dir
      doc: Directory.
    3:
      id: chrdev
      doc: Character device.
    4:
      id: blkdev
      doc: Block device.
    5:
      id: fifo
      doc: Named pipe.
    6:
      id: sock
      doc: Unix socket.
    7:
      id: symlink
      doc: Symbolic link.
    0xde:
      id: dir_csum
      doc: Not a file type; marks the checksum tail entry (EXT4_FT_DIR_CSUM).
