# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4Xattr(KaitaiStruct):
    """Record layouts of ext4 extended attributes. They live in two places: the
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
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
    
    
    .. seealso::
       Linux fs/ext4/xattr.h, fs/ext4/acl.h
    """

    class AclTag(IntEnum):
        user_obj = 1
        user = 2
        group_obj = 4
        group = 8
        mask = 16
        other = 32

    class NameIndex(IntEnum):
        user = 1
        posix_acl_access = 2
        posix_acl_default = 3
        trusted = 4
        lustre = 5
        security = 6
        system = 7
        richacl = 8
        encryption = 9
        hurd = 10
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4Xattr, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        pass


    def _fetch_instances(self):
        pass

    class PosixAcl(KaitaiStruct):
        """The value of a system.posix_acl_access / system.posix_acl_default
        attribute in ext4's compact on-disk form (`ext4_acl_header` then
        entries of 4 or 8 bytes), decoded from a slice that is exactly the
        value. This is not the 8-byte-per-entry version-2 form the Linux VFS
        exchanges with user space. Every entry consumes at least 4 bytes, so
        the entry count is bounded by the value size / 4.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#posix-acls
        
        
        .. seealso::
           Linux fs/ext4/acl.h
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Xattr.PosixAcl, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.a_version = self._io.read_u4le()
            if not self.a_version == 1:
                raise kaitaistruct.ValidationNotEqualError(1, self.a_version, self._io, u"/types/posix_acl/seq/0")
            self.entries = []
            i = 0
            while not self._io.is_eof():
                self.entries.append(Ext4Xattr.PosixAclEntry(self._io, self, self._root))
                i += 1



        def _fetch_instances(self):
            pass
            for i in range(len(self.entries)):
                pass
                self.entries[i]._fetch_instances()



    class PosixAclEntry(KaitaiStruct):
        """`ext4_acl_entry` (8 bytes, for named users and groups) or
        `ext4_acl_entry_short` (4 bytes, for the other tags). An unknown tag
        decodes as a short entry; the parser rejects it as the kernel does.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#posix-acls
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Xattr.PosixAclEntry, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.e_tag = KaitaiStream.resolve_enum(Ext4Xattr.AclTag, self._io.read_u2le())
            self.e_perm = self._io.read_u2le()
            if  ((self.e_tag == Ext4Xattr.AclTag.user) or (self.e_tag == Ext4Xattr.AclTag.group)) :
                pass
                self.e_id = self._io.read_u4le()



        def _fetch_instances(self):
            pass
            if  ((self.e_tag == Ext4Xattr.AclTag.user) or (self.e_tag == Ext4Xattr.AclTag.group)) :
                pass


        @property
        def can_execute(self):
            """The execute (search) permission bit."""
            if hasattr(self, '_m_can_execute'):
                return self._m_can_execute

            self._m_can_execute = self.e_perm & 1 != 0
            return getattr(self, '_m_can_execute', None)

        @property
        def can_read(self):
            """The read permission bit."""
            if hasattr(self, '_m_can_read'):
                return self._m_can_read

            self._m_can_read = self.e_perm & 4 != 0
            return getattr(self, '_m_can_read', None)

        @property
        def can_write(self):
            """The write permission bit."""
            if hasattr(self, '_m_can_write'):
                return self._m_can_write

            self._m_can_write = self.e_perm & 2 != 0
            return getattr(self, '_m_can_write', None)


    class XattrEntry(KaitaiStruct):
        """`struct ext4_xattr_entry`: one attribute's name and the location of its
        value, decoded from a slice starting at the entry. The full name is the
        prefix for `e_name_index` followed by `e_name`.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Xattr.XattrEntry, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.e_name_len = self._io.read_u1()
            self.e_name_index = KaitaiStream.resolve_enum(Ext4Xattr.NameIndex, self._io.read_u1())
            self.e_value_offs = self._io.read_u2le()
            self.e_value_inum = self._io.read_u4le()
            self.e_value_size = self._io.read_u4le()
            self.e_hash = self._io.read_u4le()
            self.e_name = self._io.read_bytes(self.e_name_len)


        def _fetch_instances(self):
            pass

        @property
        def entry_len(self):
            """Size of this entry rounded up to 4 bytes (EXT4_XATTR_LEN), the step to the next entry."""
            if hasattr(self, '_m_entry_len'):
                return self._m_entry_len

            self._m_entry_len = (((self.e_name_len + 16) + 3) // 4) * 4
            return getattr(self, '_m_entry_len', None)

        @property
        def value_len_padded(self):
            """Space the value occupies, rounded up to 4 bytes (EXT4_XATTR_SIZE)."""
            if hasattr(self, '_m_value_len_padded'):
                return self._m_value_len_padded

            self._m_value_len_padded = ((self.e_value_size + 3) // 4) * 4
            return getattr(self, '_m_value_len_padded', None)


    class XattrHeader(KaitaiStruct):
        """`struct ext4_xattr_header`: the 32-byte header of an external xattr
        block. Entries start right after it.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Xattr.XattrHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.h_magic = self._io.read_u4le()
            if not self.h_magic == 3925999616:
                raise kaitaistruct.ValidationNotEqualError(3925999616, self.h_magic, self._io, u"/types/xattr_header/seq/0")
            self.h_refcount = self._io.read_u4le()
            self.h_blocks = self._io.read_u4le()
            if not self.h_blocks == 1:
                raise kaitaistruct.ValidationNotEqualError(1, self.h_blocks, self._io, u"/types/xattr_header/seq/2")
            self.h_hash = self._io.read_u4le()
            self.h_checksum = self._io.read_u4le()
            self.h_reserved = self._io.read_bytes(12)


        def _fetch_instances(self):
            pass


    class XattrIbodyHeader(KaitaiStruct):
        """`struct ext4_xattr_ibody_header`: the 4 bytes at i_extra_isize past
        the 128-byte base inode that announce in-inode attributes.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extended-attributes
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Xattr.XattrIbodyHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.h_magic = self._io.read_u4le()
            if not self.h_magic == 3925999616:
                raise kaitaistruct.ValidationNotEqualError(3925999616, self.h_magic, self._io, u"/types/xattr_ibody_header/seq/0")


        def _fetch_instances(self):
            pass



