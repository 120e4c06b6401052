# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4Htree(KaitaiStruct):
    """Record layouts of an indexed (htree, dir_index) ext4 directory. Block 0 of
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
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
    
    
    .. seealso::
       Linux fs/ext4/namei.c (struct dx_root, struct dx_node, struct dx_tail)
    """

    class HashVersion(IntEnum):
        legacy = 0
        half_md4 = 1
        tea = 2
        legacy_unsigned = 3
        half_md4_unsigned = 4
        tea_unsigned = 5
        siphash = 6
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4Htree, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        pass


    def _fetch_instances(self):
        pass

    class DxCountlimit(KaitaiStruct):
        """`struct dx_countlimit`: the first 4 bytes of an entry array, overlaid
        on entry 0's hash. Bounded against the slots the enclosing block can
        hold before any entry is read.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
        """
        def __init__(self, capacity, _io, _parent=None, _root=None):
            super(Ext4Htree.DxCountlimit, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self.capacity = capacity
            self._read()

        def _read(self):
            self.limit = self._io.read_u2le()
            _ = self.limit
            if not  ((_ >= 1) and (_ <= self.capacity)) :
                raise kaitaistruct.ValidationExprError(self.limit, self._io, u"/types/dx_countlimit/seq/0")
            self.count = self._io.read_u2le()
            _ = self.count
            if not  ((_ >= 1) and (_ <= self.limit)) :
                raise kaitaistruct.ValidationExprError(self.count, self._io, u"/types/dx_countlimit/seq/1")


        def _fetch_instances(self):
            pass


    class DxEntry(KaitaiStruct):
        """`struct dx_entry`: maps names whose hash is >= `hash` (and below the
        next entry's hash) to a directory block.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Htree.DxEntry, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.hash = self._io.read_u4le()
            self.block = self._io.read_u4le()


        def _fetch_instances(self):
            pass


    class DxNode(KaitaiStruct):
        """`struct dx_node`: an interior block of the hash tree, decoded from the
        whole block. It starts with an empty fake dirent (inode 0, rec_len =
        block size) so that linear readers skip it; the entry array starts at
        byte 8.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Htree.DxNode, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.fake = Ext4Htree.FakeDirent(self._io, self, self._root)
            self.countlimit = Ext4Htree.DxCountlimit(self.entry_capacity, self._io, self, self._root)
            self.block = self._io.read_u4le()
            self.entries = []
            for i in range(self.countlimit.count - 1):
                self.entries.append(Ext4Htree.DxEntry(self._io, self, self._root))



        def _fetch_instances(self):
            pass
            self.fake._fetch_instances()
            self.countlimit._fetch_instances()
            for i in range(len(self.entries)):
                pass
                self.entries[i]._fetch_instances()

            _ = self.tail
            if hasattr(self, '_m_tail'):
                pass
                self._m_tail._fetch_instances()


        @property
        def entry_capacity(self):
            """Number of 8-byte entry slots between byte 8 and the end of the block."""
            if hasattr(self, '_m_entry_capacity'):
                return self._m_entry_capacity

            self._m_entry_capacity = (self._io.size() - 8) // 8
            return getattr(self, '_m_entry_capacity', None)

        @property
        def has_tail(self):
            """True when the block has room for a dx_tail after `limit` slots."""
            if hasattr(self, '_m_has_tail'):
                return self._m_has_tail

            self._m_has_tail = self.tail_offset + 8 <= self._io.size()
            return getattr(self, '_m_has_tail', None)

        @property
        def tail(self):
            """Checksum tail (metadata_csum only). Inside this block, at an offset
            bounded by the validated limit; not a pointer across the image.
            """
            if hasattr(self, '_m_tail'):
                return self._m_tail

            if self.has_tail:
                pass
                _pos = self._io.pos()
                self._io.seek(self.tail_offset)
                self._m_tail = Ext4Htree.DxTail(self._io, self, self._root)
                self._io.seek(_pos)

            return getattr(self, '_m_tail', None)

        @property
        def tail_offset(self):
            """Byte offset of the dx_tail, right after `limit` entry slots."""
            if hasattr(self, '_m_tail_offset'):
                return self._m_tail_offset

            self._m_tail_offset = 8 + 8 * self.countlimit.limit
            return getattr(self, '_m_tail_offset', None)


    class DxRoot(KaitaiStruct):
        """`struct dx_root`: block 0 of an htree directory, decoded from the whole
        block. The entry array starts at byte 0x20 (info_length is validated
        to be 8).
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Htree.DxRoot, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.dot = Ext4Htree.FakeDirent(self._io, self, self._root)
            self.dot_name = self._io.read_bytes(4)
            self.dotdot = Ext4Htree.FakeDirent(self._io, self, self._root)
            self.dotdot_name = self._io.read_bytes(4)
            self.info = Ext4Htree.DxRootInfo(self._io, self, self._root)
            self.countlimit = Ext4Htree.DxCountlimit(self.entry_capacity, self._io, self, self._root)
            self.block = self._io.read_u4le()
            self.entries = []
            for i in range(self.countlimit.count - 1):
                self.entries.append(Ext4Htree.DxEntry(self._io, self, self._root))



        def _fetch_instances(self):
            pass
            self.dot._fetch_instances()
            self.dotdot._fetch_instances()
            self.info._fetch_instances()
            self.countlimit._fetch_instances()
            for i in range(len(self.entries)):
                pass
                self.entries[i]._fetch_instances()

            _ = self.tail
            if hasattr(self, '_m_tail'):
                pass
                self._m_tail._fetch_instances()


        @property
        def entry_capacity(self):
            """Number of 8-byte entry slots between byte 0x20 and the end of the block."""
            if hasattr(self, '_m_entry_capacity'):
                return self._m_entry_capacity

            self._m_entry_capacity = (self._io.size() - 32) // 8
            return getattr(self, '_m_entry_capacity', None)

        @property
        def has_tail(self):
            """True when the block has room for a dx_tail after `limit` slots."""
            if hasattr(self, '_m_has_tail'):
                return self._m_has_tail

            self._m_has_tail = self.tail_offset + 8 <= self._io.size()
            return getattr(self, '_m_has_tail', None)

        @property
        def tail(self):
            """Checksum tail (metadata_csum only; then limit is one slot less than
            capacity). Inside this block, at an offset bounded by the validated
            limit; not a pointer across the image.
            """
            if hasattr(self, '_m_tail'):
                return self._m_tail

            if self.has_tail:
                pass
                _pos = self._io.pos()
                self._io.seek(self.tail_offset)
                self._m_tail = Ext4Htree.DxTail(self._io, self, self._root)
                self._io.seek(_pos)

            return getattr(self, '_m_tail', None)

        @property
        def tail_offset(self):
            """Byte offset of the dx_tail, right after `limit` entry slots."""
            if hasattr(self, '_m_tail_offset'):
                return self._m_tail_offset

            self._m_tail_offset = 32 + 8 * self.countlimit.limit
            return getattr(self, '_m_tail_offset', None)


    class DxRootInfo(KaitaiStruct):
        """`struct dx_root_info`: the 8 bytes after ".." in dx_root describing the
        tree. The kernel locates the entry array at info + info_length, so any
        info_length but 8 is rejected here.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Htree.DxRootInfo, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.reserved_zero = self._io.read_u4le()
            self.hash_version = KaitaiStream.resolve_enum(Ext4Htree.HashVersion, self._io.read_u1())
            self.info_length = self._io.read_u1()
            if not self.info_length == 8:
                raise kaitaistruct.ValidationNotEqualError(8, self.info_length, self._io, u"/types/dx_root_info/seq/2")
            self.indirect_levels = self._io.read_u1()
            if not self.indirect_levels <= 2:
                raise kaitaistruct.ValidationGreaterThanError(2, self.indirect_levels, self._io, u"/types/dx_root_info/seq/3")
            self.unused_flags = self._io.read_u1()


        def _fetch_instances(self):
            pass


    class DxTail(KaitaiStruct):
        """`struct dx_tail`: the checksum after the `limit` entry slots of a
        dx_root or dx_node, present with metadata_csum.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Htree.DxTail, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.dt_reserved = self._io.read_u4le()
            self.dt_checksum = self._io.read_u4le()


        def _fetch_instances(self):
            pass


    class FakeDirent(KaitaiStruct):
        """`struct fake_dirent`: the 8-byte fixed part of a dirent, as the htree
        blocks embed it. Decoded as-is; the parser checks the values it relies
        on (".." rec_len, dx_node inode 0 and rec_len).
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#hash-tree-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Htree.FakeDirent, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.inode = self._io.read_u4le()
            self.rec_len = self._io.read_u2le()
            self.name_len = self._io.read_u1()
            self.file_type = self._io.read_u1()


        def _fetch_instances(self):
            pass



