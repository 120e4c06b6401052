meta:
  id: ext4_xattr
  title: ext4 extended attribute records (headers, entry, POSIX ACL value)
  license: GPL-3.0-or-later
  ks-version: '0.11'
  endian: le
doc: |
  Record layouts of ext4 extended attributes. They live in two places: the
  free space after `i_extra_isize` in a large inode (an
  `xattr_ibody_header` followed by entries, value offsets counted from the
  first entry) and one external block named by `i_file_acl` (an
  `xattr_header` followed by entries, value offsets counted from the start
  of the block). Entries grow from the front, values from the back; the
  entry table ends at four zero bytes.

  This file describes records only; the top-level type reads nothing. The
  parser walks the entry table itself: before each entry it checks for the
  4-byte zero terminator, then hands `xattr_entry` a slice starting at the
  entry, steps by `entry_len`, and checks each value's offset and size
  against the region before slicing the value out (or, with ea_inode and a
  non-zero `e_value_inum`, before reading the value inode).
doc-ref:
  - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
  - Linux fs/ext4/xattr.h, fs/ext4/acl.h

types:
  xattr_header:
    doc: |
      `struct ext4_xattr_header`: the 32-byte header of an external xattr
      block. Entries start right after it.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
    seq:
      - id: h_magic
        type: u4
        valid: '0xea020000'
        doc: Magic number 0xEA020000.
      - id: h_refcount
        type: u4
        doc: Number of inodes sharing this block (identical xattr sets are deduplicated).
      - id: h_blocks
        type: u4
        valid: 1
        doc: Number of blocks the attribute set uses; the kernel only accepts 1.
      - id: h_hash
        type: u4
        doc: Hash over all entry hashes, used to find shareable blocks.
      - id: h_checksum
        type: u4
        doc: |
          crc32c (metadata_csum) over the filesystem seed, the 64-bit block
          number and the whole block with this field zeroed.
      - id: h_reserved
        size: 12
        doc: Three reserved 32-bit words, zero.

  xattr_ibody_header:
    doc: |
      `struct ext4_xattr_ibody_header`: the 4 bytes at i_extra_isize past
      the 128-byte base inode that announce in-inode attributes.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
    seq:
      - id: h_magic
        type: u4
        valid: '0xea020000'
        doc: Magic number 0xEA020000; without it the inode has no in-inode attributes.

  xattr_entry:
    doc: |
      `struct ext4_xattr_entry`: one attribute's name and the location of its
      value, decoded from a slice starting at the entry. The full name is the
      prefix for `e_name_index` followed by `e_name`.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
    seq:
      - id: e_name_len
        type: u1
        doc: Length of e_name in bytes.
      - id: e_name_index
        type: u1
        enum: name_index
        doc: Name prefix code ("user.", "trusted.", ...); 0 means no prefix.
      - id: e_value_offs
        type: u2
        doc: |
          Offset of the value: from the start of the block for an xattr
          block, from the first entry for in-inode attributes. Unused (0)
          when e_value_inum is set.
      - id: e_value_inum
        type: u4
        doc: Inode holding the value (ea_inode feature); 0 when the value is local.
      - id: e_value_size
        type: u4
        doc: Length of the value in bytes.
      - id: e_hash
        type: u4
        doc: Hash of name and value (e2fsck checks it when non-zero).
      - id: e_name
        size: e_name_len
        doc: Name without its prefix and without a terminator, raw bytes.
    instances:
      entry_len:
        value: (e_name_len + 16 + 3) / 4 * 4
        doc: Size of this entry rounded up to 4 bytes (EXT4_XATTR_LEN), the step to the next entry.
      value_len_padded:
        value: (e_value_size + 3) / 4 * 4
        doc: Space the value occupies, rounded up to 4 bytes (EXT4_XATTR_SIZE).

  posix_acl:
    doc: |
      The value of a system.posix_acl_access / system.posix_acl_default
      attribute in ext4's compact on-disk form (`ext4_acl_header` then
      entries of 4 or 8 bytes), decoded from a slice that is exactly the
      value. This is not the 8-byte-per-entry version-2 form the Linux VFS
      exchanges with user space. Every entry consumes at least 4 bytes, so
      the entry count is bounded by the value size / 4.
    doc-ref:
      - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#posix-acls
      - Linux fs/ext4/acl.h
    seq:
      - id: a_version
        type: u4
        valid: 1
        doc: Format version, always 1 (EXT4_ACL_VERSION).
      - id: entries
        type: posix_acl_entry
        repeat: eos
        doc: ACL entries up to the end of the value.

  posix_acl_entry:
    doc: |
      `ext4_acl_entry` (8 bytes, for named users and groups) or
      `ext4_acl_entry_short` (4 bytes, for the other tags). An unknown tag
      decodes as a short entry; the parser rejects it as the kernel does.
    doc-ref: https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#posix-acls
    seq:
      - id: e_tag
        type: u2
        enum: acl_tag
        doc: Which class of users the entry applies to.
      - id: e_perm
        type: u2
        doc: Permission bits, 4 = read, 2 = write, 1 = execute.
      - id: e_id
        type: u4
        if: e_tag == acl_tag::user or e_tag == acl_tag::group
        doc: User or group id; present only for named user and group entries.
    instances:
      can_read:
        value: (e_perm & 4) != 0
        doc: The read permission bit.
      can_write:
        value: (e_perm & 2) != 0
        doc: The write permission bit.
      can_execute:
        value: (e_perm & 1) != 0
        doc: The execute (search) permission bit.

enums:
  name_index:
    1:
      id: user
      doc: '"user."'
    2:
      id: posix_acl_access
      doc: '"system.posix_acl_access" (the name itself is empty)'
    3:
      id: posix_acl_default
      doc: '"system.posix_acl_default" (the name itself is empty)'
    4:
      id: trusted
      doc: '"trusted."'
    5:
      id: lustre
      doc: '"lustre." (Lustre only)'
    6:
      id: security
      doc: '"security."'
    7:
      id: system
      doc: '"system." (e.g. system.data for inline data)'
    8:
      id: richacl
      doc: '"system.richacl" (out-of-tree richacl patches)'
    9:
      id: encryption
      doc: fscrypt encryption context (no prefix; the stored name is "c")
    10:
      id: hurd
      doc: Reserved for GNU Hurd.

  acl_tag:
    0x01:
      id: user_obj
      doc: The owning user (ACL_USER_OBJ).
    0x02:
      id: user
      doc: A named user, e_id is the uid (ACL_USER).
    0x04:
      id: group_obj
      doc: The owning group (ACL_GROUP_OBJ).
    0x08:
      id: group
      doc: A named group, e_id is the gid (ACL_GROUP).
    0x10:
      id: mask
      doc: Upper bound for group-class entries (ACL_MASK).
    0x20:
      id: other
      doc: Everyone else (ACL_OTHER).
