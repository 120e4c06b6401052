# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4GroupDesc(KaitaiStruct):
    """One block group descriptor, decoded from exactly the bytes of one entry of
    the group descriptor table: 32 bytes without incompat 64bit, s_desc_size
    (64 or more) with it. The slice size alone decides whether the *_hi halves
    exist (`has_hi_fields`, `_io.size >= 64`); bytes past 64 are ignored.
    
    The block numbers read here are pointers: the defensive parser checks them
    against the filesystem geometry before following them, and verifies
    bg_checksum (crc16 with gdt_csum, crc32c & 0xFFFF with metadata_csum).
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-group-descriptors
    
    
    .. seealso::
       (struct ext4_group_desc) - https://git.kernel.org/pub/scm/fs/ext2/e2fsprogs.git/tree/lib/ext2fs/ext2_fs.h
    """
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4GroupDesc, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.bg_block_bitmap_lo = self._io.read_u4le()
        self.bg_inode_bitmap_lo = self._io.read_u4le()
        self.bg_inode_table_lo = self._io.read_u4le()
        self.bg_free_blocks_count_lo = self._io.read_u2le()
        self.bg_free_inodes_count_lo = self._io.read_u2le()
        self.bg_used_dirs_count_lo = self._io.read_u2le()
        self.bg_flags = Ext4GroupDesc.GroupFlags(self._io, self, self._root)
        self.bg_exclude_bitmap_lo = self._io.read_u4le()
        self.bg_block_bitmap_csum_lo = self._io.read_u2le()
        self.bg_inode_bitmap_csum_lo = self._io.read_u2le()
        self.bg_itable_unused_lo = self._io.read_u2le()
        self.bg_checksum = self._io.read_u2le()
        if self.has_hi_fields:
            pass
            self.bg_block_bitmap_hi = self._io.read_u4le()

        if self.has_hi_fields:
            pass
            self.bg_inode_bitmap_hi = self._io.read_u4le()

        if self.has_hi_fields:
            pass
            self.bg_inode_table_hi = self._io.read_u4le()

        if self.has_hi_fields:
            pass
            self.bg_free_blocks_count_hi = self._io.read_u2le()

        if self.has_hi_fields:
            pass
            self.bg_free_inodes_count_hi = self._io.read_u2le()

        if self.has_hi_fields:
            pass
            self.bg_used_dirs_count_hi = self._io.read_u2le()

        if self.has_hi_fields:
            pass
            self.bg_itable_unused_hi = self._io.read_u2le()

        if self.has_hi_fields:
            pass
            self.bg_exclude_bitmap_hi = self._io.read_u4le()

        if self.has_hi_fields:
            pass
            self.bg_block_bitmap_csum_hi = self._io.read_u2le()

        if self.has_hi_fields:
            pass
            self.bg_inode_bitmap_csum_hi = self._io.read_u2le()

        if self.has_hi_fields:
            pass
            self.bg_reserved = self._io.read_u4le()



    def _fetch_instances(self):
        pass
        self.bg_flags._fetch_instances()
        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass

        if self.has_hi_fields:
            pass


    class GroupFlags(KaitaiStruct):
        """bg_flags, the raw word plus one boolean per defined bit (EXT4_BG_*).
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-group-descriptors
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4GroupDesc.GroupFlags, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.raw = self._io.read_u2le()


        def _fetch_instances(self):
            pass

        @property
        def block_uninit(self):
            """EXT4_BG_BLOCK_UNINIT, block bitmap not initialised (computed from the layout)."""
            if hasattr(self, '_m_block_uninit'):
                return self._m_block_uninit

            self._m_block_uninit = self.raw & 2 != 0
            return getattr(self, '_m_block_uninit', None)

        @property
        def inode_uninit(self):
            """EXT4_BG_INODE_UNINIT, inode table and bitmap not initialised (read as all free)."""
            if hasattr(self, '_m_inode_uninit'):
                return self._m_inode_uninit

            self._m_inode_uninit = self.raw & 1 != 0
            return getattr(self, '_m_inode_uninit', None)

        @property
        def itable_zeroed(self):
            """EXT4_BG_INODE_ZEROED, the inode table has been zeroed on disk."""
            if hasattr(self, '_m_itable_zeroed'):
                return self._m_itable_zeroed

            self._m_itable_zeroed = self.raw & 4 != 0
            return getattr(self, '_m_itable_zeroed', None)

        @property
        def unknown_bits(self):
            """Set bits with no name here."""
            if hasattr(self, '_m_unknown_bits'):
                return self._m_unknown_bits

            self._m_unknown_bits = self.raw & ~7
            return getattr(self, '_m_unknown_bits', None)


    @property
    def block_bitmap(self):
        """Block number of the block bitmap."""
        if hasattr(self, '_m_block_bitmap'):
            return self._m_block_bitmap

        self._m_block_bitmap = (self.bg_block_bitmap_hi << 32 | self.bg_block_bitmap_lo if self.has_hi_fields else self.bg_block_bitmap_lo)
        return getattr(self, '_m_block_bitmap', None)

    @property
    def block_bitmap_csum(self):
        """Stored block bitmap checksum: 32 bits in the 64-byte form, only the low
        16 bits (compare with crc & 0xFFFF) in the 32-byte form.
        """
        if hasattr(self, '_m_block_bitmap_csum'):
            return self._m_block_bitmap_csum

        self._m_block_bitmap_csum = (self.bg_block_bitmap_csum_hi << 16 | self.bg_block_bitmap_csum_lo if self.has_hi_fields else self.bg_block_bitmap_csum_lo)
        return getattr(self, '_m_block_bitmap_csum', None)

    @property
    def exclude_bitmap(self):
        """Block of the snapshot exclude bitmap."""
        if hasattr(self, '_m_exclude_bitmap'):
            return self._m_exclude_bitmap

        self._m_exclude_bitmap = (self.bg_exclude_bitmap_hi << 32 | self.bg_exclude_bitmap_lo if self.has_hi_fields else self.bg_exclude_bitmap_lo)
        return getattr(self, '_m_exclude_bitmap', None)

    @property
    def free_blocks_count(self):
        """Free blocks (clusters with bigalloc) in the group."""
        if hasattr(self, '_m_free_blocks_count'):
            return self._m_free_blocks_count

        self._m_free_blocks_count = (self.bg_free_blocks_count_hi << 16 | self.bg_free_blocks_count_lo if self.has_hi_fields else self.bg_free_blocks_count_lo)
        return getattr(self, '_m_free_blocks_count', None)

    @property
    def free_inodes_count(self):
        """Free inodes in the group."""
        if hasattr(self, '_m_free_inodes_count'):
            return self._m_free_inodes_count

        self._m_free_inodes_count = (self.bg_free_inodes_count_hi << 16 | self.bg_free_inodes_count_lo if self.has_hi_fields else self.bg_free_inodes_count_lo)
        return getattr(self, '_m_free_inodes_count', None)

    @property
    def has_hi_fields(self):
        """True when the slice holds the 64-byte form, so the *_hi fields were read."""
        if hasattr(self, '_m_has_hi_fields'):
            return self._m_has_hi_fields

        self._m_has_hi_fields = self._io.size() >= 64
        return getattr(self, '_m_has_hi_fields', None)

    @property
    def inode_bitmap(self):
        """Block number of the inode bitmap."""
        if hasattr(self, '_m_inode_bitmap'):
            return self._m_inode_bitmap

        self._m_inode_bitmap = (self.bg_inode_bitmap_hi << 32 | self.bg_inode_bitmap_lo if self.has_hi_fields else self.bg_inode_bitmap_lo)
        return getattr(self, '_m_inode_bitmap', None)

    @property
    def inode_bitmap_csum(self):
        """Stored inode bitmap checksum: 32 bits in the 64-byte form, only the low
        16 bits in the 32-byte form.
        """
        if hasattr(self, '_m_inode_bitmap_csum'):
            return self._m_inode_bitmap_csum

        self._m_inode_bitmap_csum = (self.bg_inode_bitmap_csum_hi << 16 | self.bg_inode_bitmap_csum_lo if self.has_hi_fields else self.bg_inode_bitmap_csum_lo)
        return getattr(self, '_m_inode_bitmap_csum', None)

    @property
    def inode_table(self):
        """First block of the inode table."""
        if hasattr(self, '_m_inode_table'):
            return self._m_inode_table

        self._m_inode_table = (self.bg_inode_table_hi << 32 | self.bg_inode_table_lo if self.has_hi_fields else self.bg_inode_table_lo)
        return getattr(self, '_m_inode_table', None)

    @property
    def itable_unused(self):
        """Never-used inodes at the end of the inode table."""
        if hasattr(self, '_m_itable_unused'):
            return self._m_itable_unused

        self._m_itable_unused = (self.bg_itable_unused_hi << 16 | self.bg_itable_unused_lo if self.has_hi_fields else self.bg_itable_unused_lo)
        return getattr(self, '_m_itable_unused', None)

    @property
    def used_dirs_count(self):
        """Directories in the group."""
        if hasattr(self, '_m_used_dirs_count'):
            return self._m_used_dirs_count

        self._m_used_dirs_count = (self.bg_used_dirs_count_hi << 16 | self.bg_used_dirs_count_lo if self.has_hi_fields else self.bg_used_dirs_count_lo)
        return getattr(self, '_m_used_dirs_count', None)


