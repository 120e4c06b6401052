# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4Extent(KaitaiStruct):
    """Record layouts of the ext4 extent tree. An inode with EXT4_EXTENTS_FL maps
    its logical blocks through a tree whose root lives in the 60-byte `i_block`
    and whose other nodes each fill one filesystem block. Every node is a
    12-byte header followed by `eh_max` 12-byte slots, of which the first
    `eh_entries` are used: index entries when `eh_depth > 0`, leaf extents when
    `eh_depth == 0`. A block-sized node also carries a 4-byte checksum tail
    right after the `eh_max` slots.
    
    This file describes records only. The top-level type reads nothing; the
    parser instantiates `node` (or `extent_header`) on a byte slice that is
    exactly one node: the 60 bytes of `i_block`, or one extent block. Following
    `ei_leaf` to the child block, checking that the child's depth is the
    parent's minus one, that keys are sorted, that physical blocks lie inside
    the filesystem and that the checksum matches is the defensive parser's
    job, never this grammar's.
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
    
    
    .. seealso::
       e2fsprogs lib/ext2fs/ext3_extents.h
    
    
    .. seealso::
       Linux fs/ext4/ext4_extents.h
    """
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4Extent, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        pass


    def _fetch_instances(self):
        pass

    class ExtentHeader(KaitaiStruct):
        """`struct ext4_extent_header`: the 12 bytes at the start of every node.
        `eh_max` and `eh_entries` are checked against the slot capacity of the
        slice the header is read from (`(_io.size - 12) / 12`), so decode it
        from the whole node, never from a 12-byte cut.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Extent.ExtentHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.eh_magic = self._io.read_u2le()
            if not self.eh_magic == 62218:
                raise kaitaistruct.ValidationNotEqualError(62218, self.eh_magic, self._io, u"/types/extent_header/seq/0")
            self.eh_entries = self._io.read_u2le()
            if not self.eh_entries <= self.capacity:
                raise kaitaistruct.ValidationGreaterThanError(self.capacity, self.eh_entries, self._io, u"/types/extent_header/seq/1")
            self.eh_max = self._io.read_u2le()
            _ = self.eh_max
            if not  ((_ >= 1) and (_ <= self.capacity) and (_ >= self.eh_entries)) :
                raise kaitaistruct.ValidationExprError(self.eh_max, self._io, u"/types/extent_header/seq/2")
            self.eh_depth = self._io.read_u2le()
            if not self.eh_depth <= 5:
                raise kaitaistruct.ValidationGreaterThanError(5, self.eh_depth, self._io, u"/types/extent_header/seq/3")
            self.eh_generation = self._io.read_u4le()


        def _fetch_instances(self):
            pass

        @property
        def capacity(self):
            """How many 12-byte entry slots fit after the header in the slice this
            header was decoded from (4 for i_block). The divisor is a constant.
            """
            if hasattr(self, '_m_capacity'):
                return self._m_capacity

            self._m_capacity = (self._io.size() - 12) // 12
            return getattr(self, '_m_capacity', None)


    class ExtentIdx(KaitaiStruct):
        """`struct ext4_extent_idx`: an interior-node entry pointing at the child
        node that maps logical blocks from `ei_block` up to the next index
        entry's `ei_block`.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Extent.ExtentIdx, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.ei_block = self._io.read_u4le()
            self.ei_leaf_lo = self._io.read_u4le()
            self.ei_leaf_hi = self._io.read_u2le()
            self.ei_unused = self._io.read_u2le()


        def _fetch_instances(self):
            pass

        @property
        def leaf(self):
            """Physical block number of the child node (48 bits)."""
            if hasattr(self, '_m_leaf'):
                return self._m_leaf

            self._m_leaf = self.ei_leaf_hi << 32 | self.ei_leaf_lo
            return getattr(self, '_m_leaf', None)


    class ExtentLeaf(KaitaiStruct):
        """`struct ext4_extent`: a leaf entry mapping `len` logical blocks from
        `ee_block` onto physical blocks from `start`. The high bit of ee_len
        encodes "unwritten" (preallocated, reads as zeros): ee_len > 32768
        means unwritten with length ee_len - 32768, while ee_len == 32768
        exactly is an initialized extent of 32768 blocks. ee_len == 0 maps
        nothing and is corrupt; the parser rejects it.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Extent.ExtentLeaf, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.ee_block = self._io.read_u4le()
            self.ee_len = self._io.read_u2le()
            self.ee_start_hi = self._io.read_u2le()
            self.ee_start_lo = self._io.read_u4le()


        def _fetch_instances(self):
            pass

        @property
        def is_unwritten(self):
            """True for an unwritten (preallocated, reads-as-zero) extent."""
            if hasattr(self, '_m_is_unwritten'):
                return self._m_is_unwritten

            self._m_is_unwritten = self.ee_len > 32768
            return getattr(self, '_m_is_unwritten', None)

        @property
        def len(self):
            """Number of blocks mapped, with the unwritten flag removed (0..32768)."""
            if hasattr(self, '_m_len'):
                return self._m_len

            self._m_len = (self.ee_len - 32768 if self.ee_len > 32768 else self.ee_len)
            return getattr(self, '_m_len', None)

        @property
        def start(self):
            """First physical block of the extent (48 bits)."""
            if hasattr(self, '_m_start'):
                return self._m_start

            self._m_start = self.ee_start_hi << 32 | self.ee_start_lo
            return getattr(self, '_m_start', None)


    class ExtentTail(KaitaiStruct):
        """`struct ext4_extent_tail`: the checksum stored right after the `eh_max`
        slots of an extent block (never in i_block), present with
        metadata_csum.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Extent.ExtentTail, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.eb_checksum = self._io.read_u4le()


        def _fetch_instances(self):
            pass


    class Node(KaitaiStruct):
        """One whole extent tree node, decoded from a slice that is exactly the
        node: `i_block` (60 bytes, capacity 4) or one filesystem block
        (capacity (block size - 12) / 12). The header's counts are validated
        against that capacity before any entry is read, so a hostile
        `eh_entries` can never drive a long repeat.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#extent-tree
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Extent.Node, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.header = Ext4Extent.ExtentHeader(self._io, self, self._root)
            if self.header.eh_depth > 0:
                pass
                self.indexes = []
                for i in range(self.header.eh_entries):
                    self.indexes.append(Ext4Extent.ExtentIdx(self._io, self, self._root))


            if self.header.eh_depth == 0:
                pass
                self.extents = []
                for i in range(self.header.eh_entries):
                    self.extents.append(Ext4Extent.ExtentLeaf(self._io, self, self._root))




        def _fetch_instances(self):
            pass
            self.header._fetch_instances()
            if self.header.eh_depth > 0:
                pass
                for i in range(len(self.indexes)):
                    pass
                    self.indexes[i]._fetch_instances()


            if self.header.eh_depth == 0:
                pass
                for i in range(len(self.extents)):
                    pass
                    self.extents[i]._fetch_instances()


            _ = self.tail
            if hasattr(self, '_m_tail'):
                pass
                self._m_tail._fetch_instances()


        @property
        def has_tail(self):
            """True when the slice has room for a tail after the `eh_max` slots.
            False for the 60-byte `i_block` root, which never has one.
            """
            if hasattr(self, '_m_has_tail'):
                return self._m_has_tail

            self._m_has_tail = self.tail_offset + 4 <= self._io.size()
            return getattr(self, '_m_has_tail', None)

        @property
        def is_leaf(self):
            """True when this node holds extents rather than index entries."""
            if hasattr(self, '_m_is_leaf'):
                return self._m_is_leaf

            self._m_is_leaf = self.header.eh_depth == 0
            return getattr(self, '_m_is_leaf', None)

        @property
        def tail(self):
            """The checksum tail of a block-sized node. It sits inside this node's
            own slice at a position bounded by the validated `eh_max`; it is
            not a pointer across the image. Meaningful only with metadata_csum.
            """
            if hasattr(self, '_m_tail'):
                return self._m_tail

            if self.has_tail:
                pass
                _pos = self._io.pos()
                self._io.seek(self.tail_offset)
                self._m_tail = Ext4Extent.ExtentTail(self._io, self, self._root)
                self._io.seek(_pos)

            return getattr(self, '_m_tail', None)

        @property
        def tail_offset(self):
            """Byte offset of the checksum tail inside the node: just past the
            `eh_max` slots. It is also the length of the bytes the checksum
            covers (crc32c seeded per inode over bytes 0 .. tail_offset).
            """
            if hasattr(self, '_m_tail_offset'):
                return self._m_tail_offset

            self._m_tail_offset = 12 + 12 * self.header.eh_max
            return getattr(self, '_m_tail_offset', None)



