# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Jbd2(KaitaiStruct):
    """Record layouts of the jbd2 journal that ext3/ext4 keep in inode 8 (or on
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
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#journal-jbd2
    
    
    .. seealso::
       Linux include/linux/jbd2.h
    """

    class BlockType(IntEnum):
        descriptor = 1
        commit = 2
        superblock_v1 = 3
        superblock_v2 = 4
        revoke = 5

    class ChecksumType(IntEnum):
        crc32 = 1
        md5 = 2
        sha1 = 3
        crc32c = 4
    def __init__(self, _io, _parent=None, _root=None):
        super(Jbd2, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        pass


    def _fetch_instances(self):
        pass

    class BlockTag(KaitaiStruct):
        """`journal_block_tag_t` (journals without csum_v3): where the next data
        block of the transaction belongs on disk, decoded from a slice starting
        at the tag. With csum_v2 the kernel counts 2 extra bytes per tag
        (journal_tag_bytes), read here as `csum_v2_pad`.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#descriptor-block
        """
        def __init__(self, is_64bit, csum_v2, _io, _parent=None, _root=None):
            super(Jbd2.BlockTag, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self.is_64bit = is_64bit
            self.csum_v2 = csum_v2
            self._read()

        def _read(self):
            self.t_blocknr = self._io.read_u4be()
            self.t_checksum = self._io.read_u2be()
            self.t_flags = self._io.read_u2be()
            if self.is_64bit:
                pass
                self.t_blocknr_high = self._io.read_u4be()

            if self.csum_v2:
                pass
                self.csum_v2_pad = self._io.read_bytes(2)

            if (not (self.same_uuid)):
                pass
                self.uuid = self._io.read_bytes(16)



        def _fetch_instances(self):
            pass
            if self.is_64bit:
                pass

            if self.csum_v2:
                pass

            if (not (self.same_uuid)):
                pass


        @property
        def blocknr(self):
            """Filesystem block the logged data block is to be written to."""
            if hasattr(self, '_m_blocknr'):
                return self._m_blocknr

            self._m_blocknr = (self.t_blocknr_high << 32 | self.t_blocknr if self.is_64bit else self.t_blocknr)
            return getattr(self, '_m_blocknr', None)

        @property
        def is_deleted(self):
            """JBD2_FLAG_DELETED, the block was deleted by this transaction."""
            if hasattr(self, '_m_is_deleted'):
                return self._m_is_deleted

            self._m_is_deleted = self.t_flags & 4 != 0
            return getattr(self, '_m_is_deleted', None)

        @property
        def is_escaped(self):
            """JBD2_FLAG_ESCAPE, the data block began with the jbd2 magic, stored as zeros."""
            if hasattr(self, '_m_is_escaped'):
                return self._m_is_escaped

            self._m_is_escaped = self.t_flags & 1 != 0
            return getattr(self, '_m_is_escaped', None)

        @property
        def is_last_tag(self):
            """JBD2_FLAG_LAST_TAG, the last tag in this descriptor block."""
            if hasattr(self, '_m_is_last_tag'):
                return self._m_is_last_tag

            self._m_is_last_tag = self.t_flags & 8 != 0
            return getattr(self, '_m_is_last_tag', None)

        @property
        def same_uuid(self):
            """JBD2_FLAG_SAME_UUID, no UUID follows this tag."""
            if hasattr(self, '_m_same_uuid'):
                return self._m_same_uuid

            self._m_same_uuid = self.t_flags & 2 != 0
            return getattr(self, '_m_same_uuid', None)

        @property
        def size_on_disk(self):
            """Bytes this tag occupies including its UUID, the step to the next tag."""
            if hasattr(self, '_m_size_on_disk'):
                return self._m_size_on_disk

            self._m_size_on_disk = ((8 + (4 if self.is_64bit else 0)) + (2 if self.csum_v2 else 0)) + (0 if self.same_uuid else 16)
            return getattr(self, '_m_size_on_disk', None)


    class BlockTag3(KaitaiStruct):
        """`journal_block_tag3_t` (journals with csum_v3): a fixed 16-byte tag
        with a full 32-bit checksum, decoded from a slice starting at the tag.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#descriptor-block
        """
        def __init__(self, is_64bit, _io, _parent=None, _root=None):
            super(Jbd2.BlockTag3, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self.is_64bit = is_64bit
            self._read()

        def _read(self):
            self.t_blocknr = self._io.read_u4be()
            self.t_flags = self._io.read_u4be()
            self.t_blocknr_high = self._io.read_u4be()
            self.t_checksum = self._io.read_u4be()
            if (not (self.same_uuid)):
                pass
                self.uuid = self._io.read_bytes(16)



        def _fetch_instances(self):
            pass
            if (not (self.same_uuid)):
                pass


        @property
        def blocknr(self):
            """Filesystem block the logged data block is to be written to."""
            if hasattr(self, '_m_blocknr'):
                return self._m_blocknr

            self._m_blocknr = (self.t_blocknr_high << 32 | self.t_blocknr if self.is_64bit else self.t_blocknr)
            return getattr(self, '_m_blocknr', None)

        @property
        def is_deleted(self):
            """JBD2_FLAG_DELETED, the block was deleted by this transaction."""
            if hasattr(self, '_m_is_deleted'):
                return self._m_is_deleted

            self._m_is_deleted = self.t_flags & 4 != 0
            return getattr(self, '_m_is_deleted', None)

        @property
        def is_escaped(self):
            """JBD2_FLAG_ESCAPE, the data block began with the jbd2 magic, stored as zeros."""
            if hasattr(self, '_m_is_escaped'):
                return self._m_is_escaped

            self._m_is_escaped = self.t_flags & 1 != 0
            return getattr(self, '_m_is_escaped', None)

        @property
        def is_last_tag(self):
            """JBD2_FLAG_LAST_TAG, the last tag in this descriptor block."""
            if hasattr(self, '_m_is_last_tag'):
                return self._m_is_last_tag

            self._m_is_last_tag = self.t_flags & 8 != 0
            return getattr(self, '_m_is_last_tag', None)

        @property
        def same_uuid(self):
            """JBD2_FLAG_SAME_UUID, no UUID follows this tag."""
            if hasattr(self, '_m_same_uuid'):
                return self._m_same_uuid

            self._m_same_uuid = self.t_flags & 2 != 0
            return getattr(self, '_m_same_uuid', None)

        @property
        def size_on_disk(self):
            """Bytes this tag occupies including its UUID, the step to the next tag."""
            if hasattr(self, '_m_size_on_disk'):
                return self._m_size_on_disk

            self._m_size_on_disk = 16 + (0 if self.same_uuid else 16)
            return getattr(self, '_m_size_on_disk', None)


    class BlockTail(KaitaiStruct):
        """`struct jbd2_journal_block_tail` (and the revoke tail, which has the
        same layout): the last 4 bytes of a descriptor or revoke block with
        csum_v2/v3. Decode it from exactly those 4 bytes.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#descriptor-block
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Jbd2.BlockTail, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.t_checksum = self._io.read_u4be()


        def _fetch_instances(self):
            pass


    class CommitHeader(KaitaiStruct):
        """`struct commit_header`: the block that closes a transaction; only
        transactions with a valid commit block are replayed.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#commit-block
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Jbd2.CommitHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.header = Jbd2.JournalHeader(self._io, self, self._root)
            _ = self.header
            if not _.h_blocktype == Jbd2.BlockType.commit:
                raise kaitaistruct.ValidationExprError(self.header, self._io, u"/types/commit_header/seq/0")
            self.h_chksum_type = KaitaiStream.resolve_enum(Jbd2.ChecksumType, self._io.read_u1())
            self.h_chksum_size = self._io.read_u1()
            self.h_padding = self._io.read_bytes(2)
            self.h_chksum = []
            for i in range(8):
                self.h_chksum.append(self._io.read_u4be())

            self.h_commit_sec = self._io.read_u8be()
            self.h_commit_nsec = self._io.read_u4be()


        def _fetch_instances(self):
            pass
            self.header._fetch_instances()
            for i in range(len(self.h_chksum)):
                pass



    class JournalHeader(KaitaiStruct):
        """`journal_header_t`: the common 12-byte header of every journal metadata block.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#block-header
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Jbd2.JournalHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.h_magic = self._io.read_u4be()
            if not self.h_magic == 3225106840:
                raise kaitaistruct.ValidationNotEqualError(3225106840, self.h_magic, self._io, u"/types/journal_header/seq/0")
            self.h_blocktype = KaitaiStream.resolve_enum(Jbd2.BlockType, self._io.read_u4be())
            self.h_sequence = self._io.read_u4be()


        def _fetch_instances(self):
            pass


    class JournalSuperblock(KaitaiStruct):
        """`journal_superblock_t`: the first block of the journal (1024 bytes are
        used). A version-1 superblock ends after s_errno; the v2 fields below
        are read only when the header says superblock_v2, and the feature
        instances are false for v1.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Jbd2.JournalSuperblock, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.s_header = Jbd2.JournalHeader(self._io, self, self._root)
            _ = self.s_header
            if not  ((_.h_blocktype == Jbd2.BlockType.superblock_v1) or (_.h_blocktype == Jbd2.BlockType.superblock_v2)) :
                raise kaitaistruct.ValidationExprError(self.s_header, self._io, u"/types/journal_superblock/seq/0")
            self.s_blocksize = self._io.read_u4be()
            self.s_maxlen = self._io.read_u4be()
            self.s_first = self._io.read_u4be()
            self.s_sequence = self._io.read_u4be()
            self.s_start = self._io.read_u4be()
            self.s_errno = self._io.read_s4be()
            if self.is_v2:
                pass
                self.s_feature_compat = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_feature_incompat = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_feature_ro_compat = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_uuid = self._io.read_bytes(16)

            if self.is_v2:
                pass
                self.s_nr_users = self._io.read_u4be()
                if not self.s_nr_users <= 48:
                    raise kaitaistruct.ValidationGreaterThanError(48, self.s_nr_users, self._io, u"/types/journal_superblock/seq/11")

            if self.is_v2:
                pass
                self.s_dynsuper = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_max_transaction = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_max_trans_data = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_checksum_type = KaitaiStream.resolve_enum(Jbd2.ChecksumType, self._io.read_u1())

            if self.is_v2:
                pass
                self.s_padding2 = self._io.read_bytes(3)

            if self.is_v2:
                pass
                self.s_num_fc_blks = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_head = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_padding = self._io.read_bytes(160)

            if self.is_v2:
                pass
                self.s_checksum = self._io.read_u4be()

            if self.is_v2:
                pass
                self.s_users = []
                for i in range(48):
                    self.s_users.append(self._io.read_bytes(16))




        def _fetch_instances(self):
            pass
            self.s_header._fetch_instances()
            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass

            if self.is_v2:
                pass
                for i in range(len(self.s_users)):
                    pass



        @property
        def compat_checksum(self):
            """JBD2_FEATURE_COMPAT_CHECKSUM, checksum v1 of each transaction in the commit block."""
            if hasattr(self, '_m_compat_checksum'):
                return self._m_compat_checksum

            self._m_compat_checksum =  ((self.is_v2) and (self.s_feature_compat & 1 != 0)) 
            return getattr(self, '_m_compat_checksum', None)

        @property
        def has_csum_v2or3(self):
            """Descriptor and revoke blocks end with a 4-byte block_tail."""
            if hasattr(self, '_m_has_csum_v2or3'):
                return self._m_has_csum_v2or3

            self._m_has_csum_v2or3 =  ((self.incompat_csum_v2) or (self.incompat_csum_v3)) 
            return getattr(self, '_m_has_csum_v2or3', None)

        @property
        def incompat_64bit(self):
            """JBD2_FEATURE_INCOMPAT_64BIT, tags and revoke records carry 64-bit block numbers."""
            if hasattr(self, '_m_incompat_64bit'):
                return self._m_incompat_64bit

            self._m_incompat_64bit =  ((self.is_v2) and (self.s_feature_incompat & 2 != 0)) 
            return getattr(self, '_m_incompat_64bit', None)

        @property
        def incompat_async_commit(self):
            """JBD2_FEATURE_INCOMPAT_ASYNC_COMMIT, commit blocks are written without waiting."""
            if hasattr(self, '_m_incompat_async_commit'):
                return self._m_incompat_async_commit

            self._m_incompat_async_commit =  ((self.is_v2) and (self.s_feature_incompat & 4 != 0)) 
            return getattr(self, '_m_incompat_async_commit', None)

        @property
        def incompat_csum_v2(self):
            """JBD2_FEATURE_INCOMPAT_CSUM_V2, per-block crc32c with 16-bit tag checksums."""
            if hasattr(self, '_m_incompat_csum_v2'):
                return self._m_incompat_csum_v2

            self._m_incompat_csum_v2 =  ((self.is_v2) and (self.s_feature_incompat & 8 != 0)) 
            return getattr(self, '_m_incompat_csum_v2', None)

        @property
        def incompat_csum_v3(self):
            """JBD2_FEATURE_INCOMPAT_CSUM_V3, per-block crc32c with fixed 16-byte block_tag3 tags."""
            if hasattr(self, '_m_incompat_csum_v3'):
                return self._m_incompat_csum_v3

            self._m_incompat_csum_v3 =  ((self.is_v2) and (self.s_feature_incompat & 16 != 0)) 
            return getattr(self, '_m_incompat_csum_v3', None)

        @property
        def incompat_fast_commit(self):
            """JBD2_FEATURE_INCOMPAT_FAST_COMMIT, a fast-commit area follows the log."""
            if hasattr(self, '_m_incompat_fast_commit'):
                return self._m_incompat_fast_commit

            self._m_incompat_fast_commit =  ((self.is_v2) and (self.s_feature_incompat & 32 != 0)) 
            return getattr(self, '_m_incompat_fast_commit', None)

        @property
        def incompat_revoke(self):
            """JBD2_FEATURE_INCOMPAT_REVOKE, the journal has revoke blocks."""
            if hasattr(self, '_m_incompat_revoke'):
                return self._m_incompat_revoke

            self._m_incompat_revoke =  ((self.is_v2) and (self.s_feature_incompat & 1 != 0)) 
            return getattr(self, '_m_incompat_revoke', None)

        @property
        def is_v2(self):
            """True for a version-2 superblock, the only one with feature fields."""
            if hasattr(self, '_m_is_v2'):
                return self._m_is_v2

            self._m_is_v2 = self.s_header.h_blocktype == Jbd2.BlockType.superblock_v2
            return getattr(self, '_m_is_v2', None)

        @property
        def tag_bytes(self):
            """Size of one tag without its UUID (journal_tag_bytes in the
            kernel): 16 with csum_v3, else 8, plus 4 with 64bit, plus 2 with
            csum_v2.
            """
            if hasattr(self, '_m_tag_bytes'):
                return self._m_tag_bytes

            self._m_tag_bytes = (16 if self.incompat_csum_v3 else (8 + (4 if self.incompat_64bit else 0)) + (2 if self.incompat_csum_v2 else 0))
            return getattr(self, '_m_tag_bytes', None)

        @property
        def unknown_incompat(self):
            """Incompatible feature bits this grammar does not know; non-zero means "do not replay"."""
            if hasattr(self, '_m_unknown_incompat'):
                return self._m_unknown_incompat

            self._m_unknown_incompat = (self.s_feature_incompat & ~63 if self.is_v2 else 0)
            return getattr(self, '_m_unknown_incompat', None)


    class RevokeHeader(KaitaiStruct):
        """`jbd2_journal_revoke_header_t` and the records after it: filesystem
        blocks whose earlier logged copies must not be replayed. Decoded from
        the whole revoke block; r_count is bounded by the block size before the
        records are read, so their number is at most (block size - 16) / 4.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#revocation-block
        """
        def __init__(self, is_64bit, _io, _parent=None, _root=None):
            super(Jbd2.RevokeHeader, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self.is_64bit = is_64bit
            self._read()

        def _read(self):
            self.r_header = Jbd2.JournalHeader(self._io, self, self._root)
            _ = self.r_header
            if not _.h_blocktype == Jbd2.BlockType.revoke:
                raise kaitaistruct.ValidationExprError(self.r_header, self._io, u"/types/revoke_header/seq/0")
            self.r_count = self._io.read_u4be()
            if not self.r_count >= 16:
                raise kaitaistruct.ValidationLessThanError(16, self.r_count, self._io, u"/types/revoke_header/seq/1")
            if not self.r_count <= self._io.size():
                raise kaitaistruct.ValidationGreaterThanError(self._io.size(), self.r_count, self._io, u"/types/revoke_header/seq/1")
            self.blocks = []
            for i in range((self.r_count - 16) // (8 if self.is_64bit else 4)):
                _on = self.is_64bit
                if _on == False:
                    pass
                    self.blocks.append(self._io.read_u4be())
                elif _on == True:
                    pass
                    self.blocks.append(self._io.read_u8be())



        def _fetch_instances(self):
            pass
            self.r_header._fetch_instances()
            for i in range(len(self.blocks)):
                pass
                _on = self.is_64bit
                if _on == False:
                    pass
                elif _on == True:
                    pass




