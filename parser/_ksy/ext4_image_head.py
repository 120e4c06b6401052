# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from . import ext4_group_desc
from . import ext4_superblock


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4ImageHead(KaitaiStruct):
    """Entry point for opening a raw image in the Kaitai Web IDE: the fixed layout
    at the start of every ext2/3/4 filesystem. Bytes 0-1023 are the boot area,
    bytes 1024-2047 the primary superblock, and the block after the one holding
    the superblock starts the group descriptor table; the first block of that
    table is decoded here.
    
    Everything is at a fixed place computed from the (validated) block size; no
    on-disk pointer is followed, and the number of descriptors decoded is
    bounded by one block. ext4guard itself does not use this type: the
    defensive parser reads each record from its own bounded slice.
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/overview.html#layout
    """
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4ImageHead, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.boot_sector = self._io.read_bytes(1024)
        self._raw_superblock = self._io.read_bytes(1024)
        _io__raw_superblock = KaitaiStream(BytesIO(self._raw_superblock))
        self.superblock = ext4_superblock.Ext4Superblock(_io__raw_superblock)
        self.gdt_padding = self._io.read_bytes((self.superblock.block_size - 2048 if self.superblock.block_size > 2048 else 0))
        self._raw_first_gdt_block = self._io.read_bytes(self.superblock.block_size)
        _io__raw_first_gdt_block = KaitaiStream(BytesIO(self._raw_first_gdt_block))
        self.first_gdt_block = Ext4ImageHead.GdtBlock(_io__raw_first_gdt_block, self, self._root)


    def _fetch_instances(self):
        pass
        self.superblock._fetch_instances()
        self.first_gdt_block._fetch_instances()

    class GdtBlock(KaitaiStruct):
        """One block of group descriptors: as many as the filesystem has groups,
        at most one block's worth (block_size / desc_size).
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-group-descriptors
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4ImageHead.GdtBlock, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self._raw_descs = []
            self.descs = []
            for i in range((self.descs_in_block if self.descs_in_block < self._parent.superblock.group_count else self._parent.superblock.group_count)):
                self._raw_descs.append(self._io.read_bytes(self._parent.superblock.desc_size))
                _io__raw_descs = KaitaiStream(BytesIO(self._raw_descs[i]))
                self.descs.append(ext4_group_desc.Ext4GroupDesc(_io__raw_descs))



        def _fetch_instances(self):
            pass
            for i in range(len(self.descs)):
                pass
                self.descs[i]._fetch_instances()


        @property
        def descs_in_block(self):
            """Descriptors per block; desc_size is 32 or a validated power of two from 64 to 1024."""
            if hasattr(self, '_m_descs_in_block'):
                return self._m_descs_in_block

            self._m_descs_in_block = self._parent.superblock.block_size // self._parent.superblock.desc_size
            return getattr(self, '_m_descs_in_block', None)



