# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4Inode(KaitaiStruct):
    """One inode record, decoded from exactly s_inode_size bytes of an inode table
    (128 on revision 0 filesystems).
    
    The first 128 bytes are always there. The extra fields after them exist
    only when the slice is longer than 128 bytes AND `128 + i_extra_isize`
    covers the whole field, the kernel's EXT4_FITS_IN_INODE rule: each one is
    read under `if: extra_end >= <end offset of the field>`, so a short, odd
    or oversized i_extra_isize never reads past the slice and never raises.
    Whether i_extra_isize itself is acceptable (a multiple of 4 that fits the
    record) is reported by `extra_isize_valid`; rejecting the inode is the
    parser's decision. The bytes from 128 + i_extra_isize to the end of the
    record hold the in-inode extended attributes; the parser slices them.
    
    i_block is kept as 60 raw bytes: depending on i_flags and i_mode it is an
    extent tree root, a block map, inline data or a fast symlink target, and
    the parser decides which.
    
    The osd1/osd2 unions are decoded with their Linux meaning (s_creator_os
    linux), which is what ext4 uses.
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#index-nodes
    
    
    .. seealso::
       (struct ext2_inode_large) - https://git.kernel.org/pub/scm/fs/ext2/e2fsprogs.git/tree/lib/ext2fs/ext2_fs.h
    """

    class FileType(IntEnum):
        fifo = 1
        chr_dev = 2
        dir = 4
        blk_dev = 6
        reg_file = 8
        symlink = 10
        socket = 12
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4Inode, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.i_mode = self._io.read_u2le()
        self.i_uid = self._io.read_u2le()
        self.i_size_lo = self._io.read_u4le()
        self.i_atime = self._io.read_s4le()
        self.i_ctime = self._io.read_s4le()
        self.i_mtime = self._io.read_s4le()
        self.i_dtime = self._io.read_u4le()
        self.i_gid = self._io.read_u2le()
        self.i_links_count = self._io.read_u2le()
        self.i_blocks_lo = self._io.read_u4le()
        self.i_flags = Ext4Inode.InodeFlags(self._io, self, self._root)
        self.l_i_version = self._io.read_u4le()
        self.i_block = self._io.read_bytes(60)
        self.i_generation = self._io.read_u4le()
        self.i_file_acl_lo = self._io.read_u4le()
        self.i_size_high = self._io.read_u4le()
        self.i_obso_faddr = self._io.read_u4le()
        self.l_i_blocks_hi = self._io.read_u2le()
        self.l_i_file_acl_high = self._io.read_u2le()
        self.l_i_uid_high = self._io.read_u2le()
        self.l_i_gid_high = self._io.read_u2le()
        self.l_i_checksum_lo = self._io.read_u2le()
        self.l_i_reserved = self._io.read_u2le()
        if self._io.size() >= 130:
            pass
            self.i_extra_isize = self._io.read_u2le()

        if self.extra_end >= 132:
            pass
            self.i_checksum_hi = self._io.read_u2le()

        if self.extra_end >= 136:
            pass
            self.i_ctime_extra = self._io.read_u4le()

        if self.extra_end >= 140:
            pass
            self.i_mtime_extra = self._io.read_u4le()

        if self.extra_end >= 144:
            pass
            self.i_atime_extra = self._io.read_u4le()

        if self.extra_end >= 148:
            pass
            self.i_crtime = self._io.read_s4le()

        if self.extra_end >= 152:
            pass
            self.i_crtime_extra = self._io.read_u4le()

        if self.extra_end >= 156:
            pass
            self.i_version_hi = self._io.read_u4le()

        if self.extra_end >= 160:
            pass
            self.i_projid = self._io.read_u4le()



    def _fetch_instances(self):
        pass
        self.i_flags._fetch_instances()
        if self._io.size() >= 130:
            pass

        if self.extra_end >= 132:
            pass

        if self.extra_end >= 136:
            pass

        if self.extra_end >= 140:
            pass

        if self.extra_end >= 144:
            pass

        if self.extra_end >= 148:
            pass

        if self.extra_end >= 152:
            pass

        if self.extra_end >= 156:
            pass

        if self.extra_end >= 160:
            pass


    class InodeFlags(KaitaiStruct):
        """i_flags, the raw word plus one boolean per defined bit (EXT4_*_FL).
        `unknown_bits` are the bits this grammar does not name.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/dynamic.html#index-nodes
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Inode.InodeFlags, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.raw = self._io.read_u4le()


        def _fetch_instances(self):
            pass

        @property
        def append(self):
            """EXT4_APPEND_FL, append only."""
            if hasattr(self, '_m_append'):
                return self._m_append

            self._m_append = self.raw & 32 != 0
            return getattr(self, '_m_append', None)

        @property
        def casefold(self):
            """EXT4_CASEFOLD_FL, case-insensitive directory."""
            if hasattr(self, '_m_casefold'):
                return self._m_casefold

            self._m_casefold = self.raw & 1073741824 != 0
            return getattr(self, '_m_casefold', None)

        @property
        def compr(self):
            """EXT4_COMPR_FL, compressed file (not implemented)."""
            if hasattr(self, '_m_compr'):
                return self._m_compr

            self._m_compr = self.raw & 4 != 0
            return getattr(self, '_m_compr', None)

        @property
        def comprblk(self):
            """EXT4_COMPRBLK_FL, has compressed clusters (unused)."""
            if hasattr(self, '_m_comprblk'):
                return self._m_comprblk

            self._m_comprblk = self.raw & 512 != 0
            return getattr(self, '_m_comprblk', None)

        @property
        def dax(self):
            """EXT4_DAX_FL, direct access on persistent memory."""
            if hasattr(self, '_m_dax'):
                return self._m_dax

            self._m_dax = self.raw & 33554432 != 0
            return getattr(self, '_m_dax', None)

        @property
        def dirsync(self):
            """EXT4_DIRSYNC_FL, synchronous directory updates."""
            if hasattr(self, '_m_dirsync'):
                return self._m_dirsync

            self._m_dirsync = self.raw & 65536 != 0
            return getattr(self, '_m_dirsync', None)

        @property
        def dirty(self):
            """EXT4_DIRTY_FL, compression leftover (unused)."""
            if hasattr(self, '_m_dirty'):
                return self._m_dirty

            self._m_dirty = self.raw & 256 != 0
            return getattr(self, '_m_dirty', None)

        @property
        def ea_inode(self):
            """EXT4_EA_INODE_FL, this inode stores an extended attribute value."""
            if hasattr(self, '_m_ea_inode'):
                return self._m_ea_inode

            self._m_ea_inode = self.raw & 2097152 != 0
            return getattr(self, '_m_ea_inode', None)

        @property
        def encrypt(self):
            """EXT4_ENCRYPT_FL, contents and names are encrypted."""
            if hasattr(self, '_m_encrypt'):
                return self._m_encrypt

            self._m_encrypt = self.raw & 2048 != 0
            return getattr(self, '_m_encrypt', None)

        @property
        def eofblocks(self):
            """EXT4_EOFBLOCKS_FL, blocks past EOF (obsolete)."""
            if hasattr(self, '_m_eofblocks'):
                return self._m_eofblocks

            self._m_eofblocks = self.raw & 4194304 != 0
            return getattr(self, '_m_eofblocks', None)

        @property
        def extents(self):
            """EXT4_EXTENTS_FL, i_block holds an extent tree root."""
            if hasattr(self, '_m_extents'):
                return self._m_extents

            self._m_extents = self.raw & 524288 != 0
            return getattr(self, '_m_extents', None)

        @property
        def huge_file(self):
            """EXT4_HUGE_FILE_FL, i_blocks counts filesystem blocks, not 512-byte units."""
            if hasattr(self, '_m_huge_file'):
                return self._m_huge_file

            self._m_huge_file = self.raw & 262144 != 0
            return getattr(self, '_m_huge_file', None)

        @property
        def imagic(self):
            """EXT4_IMAGIC_FL, AFS magic directory."""
            if hasattr(self, '_m_imagic'):
                return self._m_imagic

            self._m_imagic = self.raw & 8192 != 0
            return getattr(self, '_m_imagic', None)

        @property
        def immutable(self):
            """EXT4_IMMUTABLE_FL, file cannot be changed."""
            if hasattr(self, '_m_immutable'):
                return self._m_immutable

            self._m_immutable = self.raw & 16 != 0
            return getattr(self, '_m_immutable', None)

        @property
        def index(self):
            """EXT4_INDEX_FL, directory has a hash tree index."""
            if hasattr(self, '_m_index'):
                return self._m_index

            self._m_index = self.raw & 4096 != 0
            return getattr(self, '_m_index', None)

        @property
        def inline_data(self):
            """EXT4_INLINE_DATA_FL, data lives in i_block and the system.data xattr."""
            if hasattr(self, '_m_inline_data'):
                return self._m_inline_data

            self._m_inline_data = self.raw & 268435456 != 0
            return getattr(self, '_m_inline_data', None)

        @property
        def journal_data(self):
            """EXT4_JOURNAL_DATA_FL, data goes through the journal."""
            if hasattr(self, '_m_journal_data'):
                return self._m_journal_data

            self._m_journal_data = self.raw & 16384 != 0
            return getattr(self, '_m_journal_data', None)

        @property
        def noatime(self):
            """EXT4_NOATIME_FL, access time not updated."""
            if hasattr(self, '_m_noatime'):
                return self._m_noatime

            self._m_noatime = self.raw & 128 != 0
            return getattr(self, '_m_noatime', None)

        @property
        def nocompr(self):
            """EXT4_NOCOMPR_FL, do not compress (unused)."""
            if hasattr(self, '_m_nocompr'):
                return self._m_nocompr

            self._m_nocompr = self.raw & 1024 != 0
            return getattr(self, '_m_nocompr', None)

        @property
        def nodump(self):
            """EXT4_NODUMP_FL, skipped by dump(8)."""
            if hasattr(self, '_m_nodump'):
                return self._m_nodump

            self._m_nodump = self.raw & 64 != 0
            return getattr(self, '_m_nodump', None)

        @property
        def notail(self):
            """EXT4_NOTAIL_FL, no tail merging (unused by ext4)."""
            if hasattr(self, '_m_notail'):
                return self._m_notail

            self._m_notail = self.raw & 32768 != 0
            return getattr(self, '_m_notail', None)

        @property
        def projinherit(self):
            """EXT4_PROJINHERIT_FL, children inherit the project id."""
            if hasattr(self, '_m_projinherit'):
                return self._m_projinherit

            self._m_projinherit = self.raw & 536870912 != 0
            return getattr(self, '_m_projinherit', None)

        @property
        def reserved(self):
            """EXT4_RESERVED_FL, reserved for the ext4 library."""
            if hasattr(self, '_m_reserved'):
                return self._m_reserved

            self._m_reserved = self.raw & 2147483648 != 0
            return getattr(self, '_m_reserved', None)

        @property
        def secrm(self):
            """EXT4_SECRM_FL, secure deletion (not implemented)."""
            if hasattr(self, '_m_secrm'):
                return self._m_secrm

            self._m_secrm = self.raw & 1 != 0
            return getattr(self, '_m_secrm', None)

        @property
        def snapfile(self):
            """EXT4_SNAPFILE_FL, snapshot file (not in mainline)."""
            if hasattr(self, '_m_snapfile'):
                return self._m_snapfile

            self._m_snapfile = self.raw & 16777216 != 0
            return getattr(self, '_m_snapfile', None)

        @property
        def snapfile_deleted(self):
            """EXT4_SNAPFILE_DELETED_FL, snapshot being deleted (not in mainline)."""
            if hasattr(self, '_m_snapfile_deleted'):
                return self._m_snapfile_deleted

            self._m_snapfile_deleted = self.raw & 67108864 != 0
            return getattr(self, '_m_snapfile_deleted', None)

        @property
        def snapfile_shrunk(self):
            """EXT4_SNAPFILE_SHRUNK_FL, snapshot shrink done (not in mainline)."""
            if hasattr(self, '_m_snapfile_shrunk'):
                return self._m_snapfile_shrunk

            self._m_snapfile_shrunk = self.raw & 134217728 != 0
            return getattr(self, '_m_snapfile_shrunk', None)

        @property
        def sync(self):
            """EXT4_SYNC_FL, synchronous writes."""
            if hasattr(self, '_m_sync'):
                return self._m_sync

            self._m_sync = self.raw & 8 != 0
            return getattr(self, '_m_sync', None)

        @property
        def topdir(self):
            """EXT4_TOPDIR_FL, top of a directory hierarchy (Orlov allocator)."""
            if hasattr(self, '_m_topdir'):
                return self._m_topdir

            self._m_topdir = self.raw & 131072 != 0
            return getattr(self, '_m_topdir', None)

        @property
        def unknown_bits(self):
            """Set bits with no name here (0x800000 is unassigned)."""
            if hasattr(self, '_m_unknown_bits'):
                return self._m_unknown_bits

            self._m_unknown_bits = self.raw & ~4286578687
            return getattr(self, '_m_unknown_bits', None)

        @property
        def unrm(self):
            """EXT4_UNRM_FL, undelete (not implemented)."""
            if hasattr(self, '_m_unrm'):
                return self._m_unrm

            self._m_unrm = self.raw & 2 != 0
            return getattr(self, '_m_unrm', None)

        @property
        def verity(self):
            """EXT4_VERITY_FL, fs-verity file."""
            if hasattr(self, '_m_verity'):
                return self._m_verity

            self._m_verity = self.raw & 1048576 != 0
            return getattr(self, '_m_verity', None)


    @property
    def atime_nsec(self):
        """Access time nanoseconds."""
        if hasattr(self, '_m_atime_nsec'):
            return self._m_atime_nsec

        self._m_atime_nsec = (self.i_atime_extra >> 2 if self.has_atime_extra else 0)
        return getattr(self, '_m_atime_nsec', None)

    @property
    def atime_sec(self):
        """Access time in seconds, 34 bits when the extension is present."""
        if hasattr(self, '_m_atime_sec'):
            return self._m_atime_sec

        self._m_atime_sec = (self.i_atime + ((self.i_atime_extra & 3) << 32) if self.has_atime_extra else self.i_atime)
        return getattr(self, '_m_atime_sec', None)

    @property
    def blocks_48(self):
        """48-bit block count, meaningful only with ro_compat huge_file (use
        i_blocks_lo alone without it). Counted in 512-byte units, or in
        filesystem blocks when i_flags.huge_file is set.
        """
        if hasattr(self, '_m_blocks_48'):
            return self._m_blocks_48

        self._m_blocks_48 = self.l_i_blocks_hi << 32 | self.i_blocks_lo
        return getattr(self, '_m_blocks_48', None)

    @property
    def checksum(self):
        """Stored inode crc32c: 32 bits when i_checksum_hi is present, else only
        the low 16 bits (compare with crc & 0xFFFF).
        """
        if hasattr(self, '_m_checksum'):
            return self._m_checksum

        self._m_checksum = (self.i_checksum_hi << 16 | self.l_i_checksum_lo if self.extra_end >= 132 else self.l_i_checksum_lo)
        return getattr(self, '_m_checksum', None)

    @property
    def crtime_nsec(self):
        """Creation time nanoseconds."""
        if hasattr(self, '_m_crtime_nsec'):
            return self._m_crtime_nsec

        self._m_crtime_nsec = (self.i_crtime_extra >> 2 if self.has_crtime_extra else 0)
        return getattr(self, '_m_crtime_nsec', None)

    @property
    def crtime_sec(self):
        """Creation time in seconds; 0 when the record has no i_crtime."""
        if hasattr(self, '_m_crtime_sec'):
            return self._m_crtime_sec

        self._m_crtime_sec = ((self.i_crtime + ((self.i_crtime_extra & 3) << 32) if self.has_crtime_extra else self.i_crtime) if self.has_crtime else 0)
        return getattr(self, '_m_crtime_sec', None)

    @property
    def ctime_nsec(self):
        """Change time nanoseconds (0 without the extension; values >= 10^9 are corrupt)."""
        if hasattr(self, '_m_ctime_nsec'):
            return self._m_ctime_nsec

        self._m_ctime_nsec = (self.i_ctime_extra >> 2 if self.has_ctime_extra else 0)
        return getattr(self, '_m_ctime_nsec', None)

    @property
    def ctime_sec(self):
        """Change time in seconds, 34 bits when the extension is present (ext4_decode_extra_time)."""
        if hasattr(self, '_m_ctime_sec'):
            return self._m_ctime_sec

        self._m_ctime_sec = (self.i_ctime + ((self.i_ctime_extra & 3) << 32) if self.has_ctime_extra else self.i_ctime)
        return getattr(self, '_m_ctime_sec', None)

    @property
    def extra_end(self):
        """Offset just past the fields this record may hold: 128 for a 128-byte
        record, else min(128 + i_extra_isize, record size). An extra field
        ending at offset E is present exactly when extra_end >= E.
        """
        if hasattr(self, '_m_extra_end'):
            return self._m_extra_end

        self._m_extra_end = (128 if self._io.size() < 130 else (128 + self.i_extra_isize if 128 + self.i_extra_isize < self._io.size() else self._io.size()))
        return getattr(self, '_m_extra_end', None)

    @property
    def extra_isize_valid(self):
        """False when the kernel would reject the inode for its i_extra_isize (not
        a multiple of 4, or past the end of the record). Always true for a
        record too short to hold i_extra_isize (128 bytes).
        """
        if hasattr(self, '_m_extra_isize_valid'):
            return self._m_extra_isize_valid

        self._m_extra_isize_valid =  ((self._io.size() < 130) or ( ((128 + self.i_extra_isize <= self._io.size()) and (self.i_extra_isize & 3 == 0)) )) 
        return getattr(self, '_m_extra_isize_valid', None)

    @property
    def file_acl_64(self):
        """48-bit extended attribute block, meaningful only with incompat 64bit
        (use i_file_acl_lo alone without it).
        """
        if hasattr(self, '_m_file_acl_64'):
            return self._m_file_acl_64

        self._m_file_acl_64 = self.l_i_file_acl_high << 32 | self.i_file_acl_lo
        return getattr(self, '_m_file_acl_64', None)

    @property
    def file_type(self):
        """File type from the top 4 bits of i_mode (S_IFMT >> 12)."""
        if hasattr(self, '_m_file_type'):
            return self._m_file_type

        self._m_file_type = KaitaiStream.resolve_enum(Ext4Inode.FileType, self.i_mode >> 12 & 15)
        return getattr(self, '_m_file_type', None)

    @property
    def gid(self):
        """32-bit group id."""
        if hasattr(self, '_m_gid'):
            return self._m_gid

        self._m_gid = self.l_i_gid_high << 16 | self.i_gid
        return getattr(self, '_m_gid', None)

    @property
    def has_atime_extra(self):
        """True when i_atime_extra was read."""
        if hasattr(self, '_m_has_atime_extra'):
            return self._m_has_atime_extra

        self._m_has_atime_extra = self.extra_end >= 144
        return getattr(self, '_m_has_atime_extra', None)

    @property
    def has_checksum_hi(self):
        """True when i_checksum_hi was read."""
        if hasattr(self, '_m_has_checksum_hi'):
            return self._m_has_checksum_hi

        self._m_has_checksum_hi = self.extra_end >= 132
        return getattr(self, '_m_has_checksum_hi', None)

    @property
    def has_crtime(self):
        """True when i_crtime was read."""
        if hasattr(self, '_m_has_crtime'):
            return self._m_has_crtime

        self._m_has_crtime = self.extra_end >= 148
        return getattr(self, '_m_has_crtime', None)

    @property
    def has_crtime_extra(self):
        """True when i_crtime_extra was read."""
        if hasattr(self, '_m_has_crtime_extra'):
            return self._m_has_crtime_extra

        self._m_has_crtime_extra = self.extra_end >= 152
        return getattr(self, '_m_has_crtime_extra', None)

    @property
    def has_ctime_extra(self):
        """True when i_ctime_extra was read."""
        if hasattr(self, '_m_has_ctime_extra'):
            return self._m_has_ctime_extra

        self._m_has_ctime_extra = self.extra_end >= 136
        return getattr(self, '_m_has_ctime_extra', None)

    @property
    def has_mtime_extra(self):
        """True when i_mtime_extra was read."""
        if hasattr(self, '_m_has_mtime_extra'):
            return self._m_has_mtime_extra

        self._m_has_mtime_extra = self.extra_end >= 140
        return getattr(self, '_m_has_mtime_extra', None)

    @property
    def has_projid(self):
        """True when i_projid was read."""
        if hasattr(self, '_m_has_projid'):
            return self._m_has_projid

        self._m_has_projid = self.extra_end >= 160
        return getattr(self, '_m_has_projid', None)

    @property
    def has_version_hi(self):
        """True when i_version_hi was read."""
        if hasattr(self, '_m_has_version_hi'):
            return self._m_has_version_hi

        self._m_has_version_hi = self.extra_end >= 156
        return getattr(self, '_m_has_version_hi', None)

    @property
    def mtime_nsec(self):
        """Modification time nanoseconds."""
        if hasattr(self, '_m_mtime_nsec'):
            return self._m_mtime_nsec

        self._m_mtime_nsec = (self.i_mtime_extra >> 2 if self.has_mtime_extra else 0)
        return getattr(self, '_m_mtime_nsec', None)

    @property
    def mtime_sec(self):
        """Modification time in seconds, 34 bits when the extension is present."""
        if hasattr(self, '_m_mtime_sec'):
            return self._m_mtime_sec

        self._m_mtime_sec = (self.i_mtime + ((self.i_mtime_extra & 3) << 32) if self.has_mtime_extra else self.i_mtime)
        return getattr(self, '_m_mtime_sec', None)

    @property
    def permissions(self):
        """Permission, setuid, setgid and sticky bits of i_mode."""
        if hasattr(self, '_m_permissions'):
            return self._m_permissions

        self._m_permissions = self.i_mode & 4095
        return getattr(self, '_m_permissions', None)

    @property
    def projid(self):
        """Project id; 0 (the default project) when the record has no i_projid."""
        if hasattr(self, '_m_projid'):
            return self._m_projid

        self._m_projid = (self.i_projid if self.has_projid else 0)
        return getattr(self, '_m_projid', None)

    @property
    def size(self):
        """Size in bytes, 64 bits as the kernel reads it (ext4_isize); a value of
        2^63 or more is corrupt.
        """
        if hasattr(self, '_m_size'):
            return self._m_size

        self._m_size = self.i_size_high << 32 | self.i_size_lo
        return getattr(self, '_m_size', None)

    @property
    def uid(self):
        """32-bit owner user id."""
        if hasattr(self, '_m_uid'):
            return self._m_uid

        self._m_uid = self.l_i_uid_high << 16 | self.i_uid
        return getattr(self, '_m_uid', None)

    @property
    def version(self):
        """Inode version, 64 bits when i_version_hi is present."""
        if hasattr(self, '_m_version'):
            return self._m_version

        self._m_version = (self.i_version_hi << 32 | self.l_i_version if self.has_version_hi else self.l_i_version)
        return getattr(self, '_m_version', None)


