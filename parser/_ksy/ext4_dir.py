# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4Dir(KaitaiStruct):
    """Record layouts of a linear (classic) ext4 directory block: a chain of
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
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#linear-classic-directories
    
    
    .. seealso::
       e2fsprogs lib/ext2fs/ext2_fs.h (struct ext2_dir_entry_2, struct ext2_dir_entry_tail)
    """

    class FileType(IntEnum):
        unknown = 0
        reg_file = 1
        dir = 2
        chrdev = 3
        blkdev = 4
        fifo = 5
        sock = 6
        symlink = 7
        dir_csum = 222
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4Dir, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        pass


    def _fetch_instances(self):
        pass

    class DirEntry2(KaitaiStruct):
        """`struct ext4_dir_entry_2`: one directory entry. `inode == 0` marks an
        unused entry whose `rec_len` still counts. The name is raw bytes: ext4
        names may hold any byte except '/' and NUL, in no particular encoding,
        so it is never decoded here.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#linear-classic-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Dir.DirEntry2, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.inode = self._io.read_u4le()
            self.rec_len = self._io.read_u2le()
            _ = self.rec_len
            if not  ((_ >= 12) and ( ((_ % 4 == 0) or (_ == 65535)) )) :
                raise kaitaistruct.ValidationExprError(self.rec_len, self._io, u"/types/dir_entry_2/seq/1")
            self.name_len = self._io.read_u1()
            if not self.name_len <= self.rec_len_bytes - 8:
                raise kaitaistruct.ValidationGreaterThanError(self.rec_len_bytes - 8, self.name_len, self._io, u"/types/dir_entry_2/seq/2")
            self.file_type = KaitaiStream.resolve_enum(Ext4Dir.FileType, self._io.read_u1())
            self.name = self._io.read_bytes(self.name_len)


        def _fetch_instances(self):
            pass

        @property
        def is_unused(self):
            """True for a deleted or placeholder entry that names nothing."""
            if hasattr(self, '_m_is_unused'):
                return self._m_is_unused

            self._m_is_unused = self.inode == 0
            return getattr(self, '_m_is_unused', None)

        @property
        def rec_len_bytes(self):
            """rec_len decoded to a byte count (ext4_rec_len_from_disk): 65535
            stands for 65536, the whole of a 64 KiB block. The parser must still
            check it against the bytes left in the block.
            """
            if hasattr(self, '_m_rec_len_bytes'):
                return self._m_rec_len_bytes

            self._m_rec_len_bytes = (65536 if self.rec_len == 65535 else self.rec_len)
            return getattr(self, '_m_rec_len_bytes', None)


    class DirEntryTail(KaitaiStruct):
        """`struct ext4_dir_entry_tail`: the fake 12-byte entry occupying the last
        12 bytes of a linear directory block with metadata_csum. To an old
        reader it looks like an unused entry (inode 0, rec_len 12, name_len 0);
        the 0xDE type byte identifies it. Decode it from exactly those last 12
        bytes; a validation failure just means the block has no tail.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#linear-classic-directories
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Dir.DirEntryTail, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.det_reserved_zero1 = self._io.read_u4le()
            if not self.det_reserved_zero1 == 0:
                raise kaitaistruct.ValidationNotEqualError(0, self.det_reserved_zero1, self._io, u"/types/dir_entry_tail/seq/0")
            self.det_rec_len = self._io.read_u2le()
            if not self.det_rec_len == 12:
                raise kaitaistruct.ValidationNotEqualError(12, self.det_rec_len, self._io, u"/types/dir_entry_tail/seq/1")
            self.det_reserved_zero2 = self._io.read_u1()
            if not self.det_reserved_zero2 == 0:
                raise kaitaistruct.ValidationNotEqualError(0, self.det_reserved_zero2, self._io, u"/types/dir_entry_tail/seq/2")
            self.det_reserved_ft = self._io.read_u1()
            if not self.det_reserved_ft == 222:
                raise kaitaistruct.ValidationNotEqualError(222, self.det_reserved_ft, self._io, u"/types/dir_entry_tail/seq/3")
            self.det_checksum = self._io.read_u4le()


        def _fetch_instances(self):
            pass



