# This is a generated file! Please edit source .ksy file and use kaitai-struct-compiler to rebuild
# type: ignore

import kaitaistruct
from kaitaistruct import KaitaiStruct, KaitaiStream, BytesIO
from enum import IntEnum


if getattr(kaitaistruct, 'API_VERSION', (0, 9)) < (0, 11):
    raise Exception("Incompatible Kaitai Struct Python API: 0.11 or later is required, but you have %s" % (kaitaistruct.__version__))

class Ext4Superblock(KaitaiStruct):
    """The 1024-byte ext2/3/4 superblock, decoded from exactly the 1024-byte slice
    that starts at byte 1024 of the image (or at the start of a backup group).
    
    Only layout lives here: the defensive parser (parser/*.py) decides which
    copy to read, checks the cross-field rules (s_first_data_block below the
    block count, s_log_cluster_size equal to s_log_block_size without bigalloc,
    inode and group counts that agree, checksum...) and turns the kaitaistruct
    errors raised below into typed corruption errors.
    
    `valid:` rejects only values that make the record meaningless and that
    would otherwise reach arithmetic: the magic, the revision, the block and
    cluster size shifts, the per-group counts (divisors) and, where they are
    used, the inode and group descriptor sizes. The bounds are the kernel's
    (fs/ext4/super.c).
    
    Field names are those of struct ext4_super_block in fs/ext4/ext4.h, so
    every field can be grepped against the kernel documentation.
    
    .. seealso::
       Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
    
    
    .. seealso::
       (struct ext2_super_block) - https://git.kernel.org/pub/scm/fs/ext2/e2fsprogs.git/tree/lib/ext2fs/ext2_fs.h
    """

    class ChecksumType(IntEnum):
        crc32c = 1

    class CreatorOs(IntEnum):
        linux = 0
        hurd = 1
        masix = 2
        freebsd = 3
        lites = 4

    class Encoding(IntEnum):
        utf8 = 1

    class EncryptionMode(IntEnum):
        invalid = 0
        aes_256_xts = 1
        aes_256_gcm = 2
        aes_256_cbc = 3
        aes_256_cts = 4

    class ErrorsPolicy(IntEnum):
        continue_execution = 1
        remount_ro = 2
        panic = 3

    class FsState(IntEnum):
        valid_fs = 1
        error_fs = 2
        orphan_fs = 4

    class HashVersion(IntEnum):
        legacy = 0
        half_md4 = 1
        tea = 2
        legacy_unsigned = 3
        half_md4_unsigned = 4
        tea_unsigned = 5
        siphash = 6
    def __init__(self, _io, _parent=None, _root=None):
        super(Ext4Superblock, self).__init__(_io)
        self._parent = _parent
        self._root = _root or self
        self._read()

    def _read(self):
        self.s_inodes_count = self._io.read_u4le()
        self.s_blocks_count_lo = self._io.read_u4le()
        self.s_r_blocks_count_lo = self._io.read_u4le()
        self.s_free_blocks_count_lo = self._io.read_u4le()
        self.s_free_inodes_count = self._io.read_u4le()
        self.s_first_data_block = self._io.read_u4le()
        self.s_log_block_size = self._io.read_u4le()
        if not self.s_log_block_size <= 6:
            raise kaitaistruct.ValidationGreaterThanError(6, self.s_log_block_size, self._io, u"/seq/6")
        self.s_log_cluster_size = self._io.read_u4le()
        if not self.s_log_cluster_size <= 20:
            raise kaitaistruct.ValidationGreaterThanError(20, self.s_log_cluster_size, self._io, u"/seq/7")
        self.s_blocks_per_group = self._io.read_u4le()
        if not self.s_blocks_per_group >= 1:
            raise kaitaistruct.ValidationLessThanError(1, self.s_blocks_per_group, self._io, u"/seq/8")
        self.s_clusters_per_group = self._io.read_u4le()
        if not self.s_clusters_per_group >= 1:
            raise kaitaistruct.ValidationLessThanError(1, self.s_clusters_per_group, self._io, u"/seq/9")
        if not self.s_clusters_per_group <= 8192 << self.s_log_block_size:
            raise kaitaistruct.ValidationGreaterThanError(8192 << self.s_log_block_size, self.s_clusters_per_group, self._io, u"/seq/9")
        self.s_inodes_per_group = self._io.read_u4le()
        if not self.s_inodes_per_group >= 1:
            raise kaitaistruct.ValidationLessThanError(1, self.s_inodes_per_group, self._io, u"/seq/10")
        if not self.s_inodes_per_group <= 8192 << self.s_log_block_size:
            raise kaitaistruct.ValidationGreaterThanError(8192 << self.s_log_block_size, self.s_inodes_per_group, self._io, u"/seq/10")
        self.s_mtime = self._io.read_u4le()
        self.s_wtime = self._io.read_u4le()
        self.s_mnt_count = self._io.read_u2le()
        self.s_max_mnt_count = self._io.read_s2le()
        self.s_magic = self._io.read_u2le()
        if not self.s_magic == 61267:
            raise kaitaistruct.ValidationNotEqualError(61267, self.s_magic, self._io, u"/seq/15")
        self.s_state = KaitaiStream.resolve_enum(Ext4Superblock.FsState, self._io.read_u2le())
        self.s_errors = KaitaiStream.resolve_enum(Ext4Superblock.ErrorsPolicy, self._io.read_u2le())
        self.s_minor_rev_level = self._io.read_u2le()
        self.s_lastcheck = self._io.read_u4le()
        self.s_checkinterval = self._io.read_u4le()
        self.s_creator_os = KaitaiStream.resolve_enum(Ext4Superblock.CreatorOs, self._io.read_u4le())
        self.s_rev_level = self._io.read_u4le()
        if not self.s_rev_level <= 1:
            raise kaitaistruct.ValidationGreaterThanError(1, self.s_rev_level, self._io, u"/seq/22")
        self.s_def_resuid = self._io.read_u2le()
        self.s_def_resgid = self._io.read_u2le()
        self.s_first_ino = self._io.read_u4le()
        self.s_inode_size = self._io.read_u2le()
        _ = self.s_inode_size
        if not  ((self.s_rev_level == 0) or ( ((_ >= 128) and (_ <= self.block_size) and (_ & _ - 1 == 0)) )) :
            raise kaitaistruct.ValidationExprError(self.s_inode_size, self._io, u"/seq/26")
        self.s_block_group_nr = self._io.read_u2le()
        self.s_feature_compat = Ext4Superblock.CompatFeatures(self._io, self, self._root)
        self.s_feature_incompat = Ext4Superblock.IncompatFeatures(self._io, self, self._root)
        self.s_feature_ro_compat = Ext4Superblock.RoCompatFeatures(self._io, self, self._root)
        self.s_uuid = self._io.read_bytes(16)
        self.s_volume_name = self._io.read_bytes(16)
        self.s_last_mounted = self._io.read_bytes(64)
        self.s_algorithm_usage_bitmap = self._io.read_u4le()
        self.s_prealloc_blocks = self._io.read_u1()
        self.s_prealloc_dir_blocks = self._io.read_u1()
        self.s_reserved_gdt_blocks = self._io.read_u2le()
        self.s_journal_uuid = self._io.read_bytes(16)
        self.s_journal_inum = self._io.read_u4le()
        self.s_journal_dev = self._io.read_u4le()
        self.s_last_orphan = self._io.read_u4le()
        self.s_hash_seed = []
        for i in range(4):
            self.s_hash_seed.append(self._io.read_u4le())

        self.s_def_hash_version = KaitaiStream.resolve_enum(Ext4Superblock.HashVersion, self._io.read_u1())
        self.s_jnl_backup_type = self._io.read_u1()
        self.s_desc_size = self._io.read_u2le()
        _ = self.s_desc_size
        if not  (((not (self.s_feature_incompat.is_64bit))) or ( ((_ >= 64) and (_ <= 1024) and (_ & _ - 1 == 0)) )) :
            raise kaitaistruct.ValidationExprError(self.s_desc_size, self._io, u"/seq/45")
        self.s_default_mount_opts = self._io.read_u4le()
        self.s_first_meta_bg = self._io.read_u4le()
        self.s_mkfs_time = self._io.read_u4le()
        self.s_jnl_blocks = []
        for i in range(17):
            self.s_jnl_blocks.append(self._io.read_u4le())

        self.s_blocks_count_hi = self._io.read_u4le()
        self.s_r_blocks_count_hi = self._io.read_u4le()
        self.s_free_blocks_count_hi = self._io.read_u4le()
        self.s_min_extra_isize = self._io.read_u2le()
        self.s_want_extra_isize = self._io.read_u2le()
        self.s_flags = self._io.read_u4le()
        self.s_raid_stride = self._io.read_u2le()
        self.s_mmp_update_interval = self._io.read_u2le()
        self.s_mmp_block = self._io.read_u8le()
        self.s_raid_stripe_width = self._io.read_u4le()
        self.s_log_groups_per_flex = self._io.read_u1()
        self.s_checksum_type = KaitaiStream.resolve_enum(Ext4Superblock.ChecksumType, self._io.read_u1())
        self.s_encryption_level = self._io.read_u1()
        self.s_reserved_pad = self._io.read_u1()
        self.s_kbytes_written = self._io.read_u8le()
        self.s_snapshot_inum = self._io.read_u4le()
        self.s_snapshot_id = self._io.read_u4le()
        self.s_snapshot_r_blocks_count = self._io.read_u8le()
        self.s_snapshot_list = self._io.read_u4le()
        self.s_error_count = self._io.read_u4le()
        self.s_first_error_time = self._io.read_u4le()
        self.s_first_error_ino = self._io.read_u4le()
        self.s_first_error_block = self._io.read_u8le()
        self.s_first_error_func = self._io.read_bytes(32)
        self.s_first_error_line = self._io.read_u4le()
        self.s_last_error_time = self._io.read_u4le()
        self.s_last_error_ino = self._io.read_u4le()
        self.s_last_error_line = self._io.read_u4le()
        self.s_last_error_block = self._io.read_u8le()
        self.s_last_error_func = self._io.read_bytes(32)
        self.s_mount_opts = self._io.read_bytes(64)
        self.s_usr_quota_inum = self._io.read_u4le()
        self.s_grp_quota_inum = self._io.read_u4le()
        self.s_overhead_clusters = self._io.read_u4le()
        self.s_backup_bgs = []
        for i in range(2):
            self.s_backup_bgs.append(self._io.read_u4le())

        self.s_encrypt_algos = []
        for i in range(4):
            self.s_encrypt_algos.append(KaitaiStream.resolve_enum(Ext4Superblock.EncryptionMode, self._io.read_u1()))

        self.s_encrypt_pw_salt = self._io.read_bytes(16)
        self.s_lpf_ino = self._io.read_u4le()
        self.s_prj_quota_inum = self._io.read_u4le()
        self.s_checksum_seed = self._io.read_u4le()
        self.s_wtime_hi = self._io.read_u1()
        self.s_mtime_hi = self._io.read_u1()
        self.s_mkfs_time_hi = self._io.read_u1()
        self.s_lastcheck_hi = self._io.read_u1()
        self.s_first_error_time_hi = self._io.read_u1()
        self.s_last_error_time_hi = self._io.read_u1()
        self.s_first_error_errcode = self._io.read_u1()
        self.s_last_error_errcode = self._io.read_u1()
        self.s_encoding = KaitaiStream.resolve_enum(Ext4Superblock.Encoding, self._io.read_u2le())
        self.s_encoding_flags = self._io.read_u2le()
        self.s_orphan_file_inum = self._io.read_u4le()
        self.s_reserved = self._io.read_bytes(376)
        self.s_checksum = self._io.read_u4le()


    def _fetch_instances(self):
        pass
        self.s_feature_compat._fetch_instances()
        self.s_feature_incompat._fetch_instances()
        self.s_feature_ro_compat._fetch_instances()
        for i in range(len(self.s_hash_seed)):
            pass

        for i in range(len(self.s_jnl_blocks)):
            pass

        for i in range(len(self.s_backup_bgs)):
            pass

        for i in range(len(self.s_encrypt_algos)):
            pass


    class CompatFeatures(KaitaiStruct):
        """s_feature_compat: the raw word plus one boolean per defined bit
        (EXT4_FEATURE_COMPAT_*). `unknown_bits` are the bits this grammar does
        not name.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Superblock.CompatFeatures, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.raw = self._io.read_u4le()


        def _fetch_instances(self):
            pass

        @property
        def dir_index(self):
            """COMPAT_DIR_INDEX, directories may carry a hash tree index."""
            if hasattr(self, '_m_dir_index'):
                return self._m_dir_index

            self._m_dir_index = self.raw & 32 != 0
            return getattr(self, '_m_dir_index', None)

        @property
        def dir_prealloc(self):
            """COMPAT_DIR_PREALLOC, preallocate directory blocks."""
            if hasattr(self, '_m_dir_prealloc'):
                return self._m_dir_prealloc

            self._m_dir_prealloc = self.raw & 1 != 0
            return getattr(self, '_m_dir_prealloc', None)

        @property
        def exclude_bitmap(self):
            """COMPAT_EXCLUDE_BITMAP, snapshot exclude bitmaps (not in mainline)."""
            if hasattr(self, '_m_exclude_bitmap'):
                return self._m_exclude_bitmap

            self._m_exclude_bitmap = self.raw & 256 != 0
            return getattr(self, '_m_exclude_bitmap', None)

        @property
        def exclude_inode(self):
            """COMPAT_EXCLUDE_INODE, snapshot exclude inode (unused)."""
            if hasattr(self, '_m_exclude_inode'):
                return self._m_exclude_inode

            self._m_exclude_inode = self.raw & 128 != 0
            return getattr(self, '_m_exclude_inode', None)

        @property
        def ext_attr(self):
            """COMPAT_EXT_ATTR, extended attributes are in use."""
            if hasattr(self, '_m_ext_attr'):
                return self._m_ext_attr

            self._m_ext_attr = self.raw & 8 != 0
            return getattr(self, '_m_ext_attr', None)

        @property
        def fast_commit(self):
            """COMPAT_FAST_COMMIT, the journal may hold fast-commit blocks."""
            if hasattr(self, '_m_fast_commit'):
                return self._m_fast_commit

            self._m_fast_commit = self.raw & 1024 != 0
            return getattr(self, '_m_fast_commit', None)

        @property
        def has_journal(self):
            """COMPAT_HAS_JOURNAL, there is a jbd2 journal (s_journal_inum or s_journal_uuid)."""
            if hasattr(self, '_m_has_journal'):
                return self._m_has_journal

            self._m_has_journal = self.raw & 4 != 0
            return getattr(self, '_m_has_journal', None)

        @property
        def imagic_inodes(self):
            """COMPAT_IMAGIC_INODES, AFS magic directories."""
            if hasattr(self, '_m_imagic_inodes'):
                return self._m_imagic_inodes

            self._m_imagic_inodes = self.raw & 2 != 0
            return getattr(self, '_m_imagic_inodes', None)

        @property
        def lazy_bg(self):
            """COMPAT_LAZY_BG, uninitialised groups (obsolete, e2fsprogs only)."""
            if hasattr(self, '_m_lazy_bg'):
                return self._m_lazy_bg

            self._m_lazy_bg = self.raw & 64 != 0
            return getattr(self, '_m_lazy_bg', None)

        @property
        def orphan_file(self):
            """COMPAT_ORPHAN_FILE, orphans are tracked in the file s_orphan_file_inum."""
            if hasattr(self, '_m_orphan_file'):
                return self._m_orphan_file

            self._m_orphan_file = self.raw & 4096 != 0
            return getattr(self, '_m_orphan_file', None)

        @property
        def resize_inode(self):
            """COMPAT_RESIZE_INODE, reserved GDT blocks owned by inode 7."""
            if hasattr(self, '_m_resize_inode'):
                return self._m_resize_inode

            self._m_resize_inode = self.raw & 16 != 0
            return getattr(self, '_m_resize_inode', None)

        @property
        def sparse_super2(self):
            """COMPAT_SPARSE_SUPER2, backup superblocks only in s_backup_bgs."""
            if hasattr(self, '_m_sparse_super2'):
                return self._m_sparse_super2

            self._m_sparse_super2 = self.raw & 512 != 0
            return getattr(self, '_m_sparse_super2', None)

        @property
        def stable_inodes(self):
            """COMPAT_STABLE_INODES, inode numbers never change (encryption policies rely on it)."""
            if hasattr(self, '_m_stable_inodes'):
                return self._m_stable_inodes

            self._m_stable_inodes = self.raw & 2048 != 0
            return getattr(self, '_m_stable_inodes', None)

        @property
        def unknown_bits(self):
            """Set bits with no name here."""
            if hasattr(self, '_m_unknown_bits'):
                return self._m_unknown_bits

            self._m_unknown_bits = self.raw & ~8191
            return getattr(self, '_m_unknown_bits', None)


    class IncompatFeatures(KaitaiStruct):
        """s_feature_incompat: the raw word plus one boolean per defined bit
        (EXT4_FEATURE_INCOMPAT_*). A reader must refuse an image with an
        incompat bit it does not implement; `unknown_bits` are the bits this
        grammar does not name.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Superblock.IncompatFeatures, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.raw = self._io.read_u4le()


        def _fetch_instances(self):
            pass

        @property
        def casefold(self):
            """INCOMPAT_CASEFOLD, case-insensitive directories using s_encoding."""
            if hasattr(self, '_m_casefold'):
                return self._m_casefold

            self._m_casefold = self.raw & 131072 != 0
            return getattr(self, '_m_casefold', None)

        @property
        def compression(self):
            """INCOMPAT_COMPRESSION, compressed files (never implemented in Linux)."""
            if hasattr(self, '_m_compression'):
                return self._m_compression

            self._m_compression = self.raw & 1 != 0
            return getattr(self, '_m_compression', None)

        @property
        def csum_seed(self):
            """INCOMPAT_CSUM_SEED, metadata checksums are seeded by s_checksum_seed."""
            if hasattr(self, '_m_csum_seed'):
                return self._m_csum_seed

            self._m_csum_seed = self.raw & 8192 != 0
            return getattr(self, '_m_csum_seed', None)

        @property
        def dirdata(self):
            """INCOMPAT_DIRDATA, data in directory entries (Lustre, not in mainline)."""
            if hasattr(self, '_m_dirdata'):
                return self._m_dirdata

            self._m_dirdata = self.raw & 4096 != 0
            return getattr(self, '_m_dirdata', None)

        @property
        def ea_inode(self):
            """INCOMPAT_EA_INODE, large xattr values stored in their own inodes."""
            if hasattr(self, '_m_ea_inode'):
                return self._m_ea_inode

            self._m_ea_inode = self.raw & 1024 != 0
            return getattr(self, '_m_ea_inode', None)

        @property
        def encrypt(self):
            """INCOMPAT_ENCRYPT, encrypted inodes may exist."""
            if hasattr(self, '_m_encrypt'):
                return self._m_encrypt

            self._m_encrypt = self.raw & 65536 != 0
            return getattr(self, '_m_encrypt', None)

        @property
        def extents(self):
            """INCOMPAT_EXTENTS, files may use extent trees."""
            if hasattr(self, '_m_extents'):
                return self._m_extents

            self._m_extents = self.raw & 64 != 0
            return getattr(self, '_m_extents', None)

        @property
        def filetype(self):
            """INCOMPAT_FILETYPE, directory entries carry a file type byte."""
            if hasattr(self, '_m_filetype'):
                return self._m_filetype

            self._m_filetype = self.raw & 2 != 0
            return getattr(self, '_m_filetype', None)

        @property
        def flex_bg(self):
            """INCOMPAT_FLEX_BG, bitmaps and inode tables may live outside their group."""
            if hasattr(self, '_m_flex_bg'):
                return self._m_flex_bg

            self._m_flex_bg = self.raw & 512 != 0
            return getattr(self, '_m_flex_bg', None)

        @property
        def inline_data(self):
            """INCOMPAT_INLINE_DATA, small files and directories stored inside the inode."""
            if hasattr(self, '_m_inline_data'):
                return self._m_inline_data

            self._m_inline_data = self.raw & 32768 != 0
            return getattr(self, '_m_inline_data', None)

        @property
        def is_64bit(self):
            """INCOMPAT_64BIT, 64-bit block numbers and s_desc_size-byte group descriptors."""
            if hasattr(self, '_m_is_64bit'):
                return self._m_is_64bit

            self._m_is_64bit = self.raw & 128 != 0
            return getattr(self, '_m_is_64bit', None)

        @property
        def journal_dev(self):
            """INCOMPAT_JOURNAL_DEV, this is an external journal device, not a filesystem."""
            if hasattr(self, '_m_journal_dev'):
                return self._m_journal_dev

            self._m_journal_dev = self.raw & 8 != 0
            return getattr(self, '_m_journal_dev', None)

        @property
        def largedir(self):
            """INCOMPAT_LARGEDIR, directories over 2 GiB and 3-level hash trees."""
            if hasattr(self, '_m_largedir'):
                return self._m_largedir

            self._m_largedir = self.raw & 16384 != 0
            return getattr(self, '_m_largedir', None)

        @property
        def meta_bg(self):
            """INCOMPAT_META_BG, group descriptors spread over meta groups from s_first_meta_bg."""
            if hasattr(self, '_m_meta_bg'):
                return self._m_meta_bg

            self._m_meta_bg = self.raw & 16 != 0
            return getattr(self, '_m_meta_bg', None)

        @property
        def mmp(self):
            """INCOMPAT_MMP, multi-mount protection block at s_mmp_block."""
            if hasattr(self, '_m_mmp'):
                return self._m_mmp

            self._m_mmp = self.raw & 256 != 0
            return getattr(self, '_m_mmp', None)

        @property
        def recover(self):
            """INCOMPAT_RECOVER, the journal needs replaying."""
            if hasattr(self, '_m_recover'):
                return self._m_recover

            self._m_recover = self.raw & 4 != 0
            return getattr(self, '_m_recover', None)

        @property
        def unknown_bits(self):
            """Set bits with no name here (0x20 and 0x800 are unassigned)."""
            if hasattr(self, '_m_unknown_bits'):
                return self._m_unknown_bits

            self._m_unknown_bits = self.raw & ~260063
            return getattr(self, '_m_unknown_bits', None)


    class RoCompatFeatures(KaitaiStruct):
        """s_feature_ro_compat: the raw word plus one boolean per defined bit
        (EXT4_FEATURE_RO_COMPAT_*). An unknown bit still allows reading;
        `unknown_bits` are the bits this grammar does not name.
        
        .. seealso::
           Source - https://www.kernel.org/doc/html/latest/filesystems/ext4/globals.html#super-block
        """
        def __init__(self, _io, _parent=None, _root=None):
            super(Ext4Superblock.RoCompatFeatures, self).__init__(_io)
            self._parent = _parent
            self._root = _root
            self._read()

        def _read(self):
            self.raw = self._io.read_u4le()


        def _fetch_instances(self):
            pass

        @property
        def bigalloc(self):
            """RO_COMPAT_BIGALLOC, allocation in clusters of 2 ^ (s_log_cluster_size - s_log_block_size) blocks."""
            if hasattr(self, '_m_bigalloc'):
                return self._m_bigalloc

            self._m_bigalloc = self.raw & 512 != 0
            return getattr(self, '_m_bigalloc', None)

        @property
        def btree_dir(self):
            """RO_COMPAT_BTREE_DIR, never used."""
            if hasattr(self, '_m_btree_dir'):
                return self._m_btree_dir

            self._m_btree_dir = self.raw & 4 != 0
            return getattr(self, '_m_btree_dir', None)

        @property
        def dir_nlink(self):
            """RO_COMPAT_DIR_NLINK, a directory link count of 1 means "more than 64999"."""
            if hasattr(self, '_m_dir_nlink'):
                return self._m_dir_nlink

            self._m_dir_nlink = self.raw & 32 != 0
            return getattr(self, '_m_dir_nlink', None)

        @property
        def extra_isize(self):
            """RO_COMPAT_EXTRA_ISIZE, every inode has s_min_extra_isize extra bytes."""
            if hasattr(self, '_m_extra_isize'):
                return self._m_extra_isize

            self._m_extra_isize = self.raw & 64 != 0
            return getattr(self, '_m_extra_isize', None)

        @property
        def gdt_csum(self):
            """RO_COMPAT_GDT_CSUM, group descriptors carry a crc16."""
            if hasattr(self, '_m_gdt_csum'):
                return self._m_gdt_csum

            self._m_gdt_csum = self.raw & 16 != 0
            return getattr(self, '_m_gdt_csum', None)

        @property
        def has_snapshot(self):
            """RO_COMPAT_HAS_SNAPSHOT, snapshots (not in mainline)."""
            if hasattr(self, '_m_has_snapshot'):
                return self._m_has_snapshot

            self._m_has_snapshot = self.raw & 128 != 0
            return getattr(self, '_m_has_snapshot', None)

        @property
        def huge_file(self):
            """RO_COMPAT_HUGE_FILE, i_blocks is 48 bits and may count filesystem blocks."""
            if hasattr(self, '_m_huge_file'):
                return self._m_huge_file

            self._m_huge_file = self.raw & 8 != 0
            return getattr(self, '_m_huge_file', None)

        @property
        def large_file(self):
            """RO_COMPAT_LARGE_FILE, files over 2 GiB exist (i_size_high in use)."""
            if hasattr(self, '_m_large_file'):
                return self._m_large_file

            self._m_large_file = self.raw & 2 != 0
            return getattr(self, '_m_large_file', None)

        @property
        def metadata_csum(self):
            """RO_COMPAT_METADATA_CSUM, crc32c checksums on all metadata."""
            if hasattr(self, '_m_metadata_csum'):
                return self._m_metadata_csum

            self._m_metadata_csum = self.raw & 1024 != 0
            return getattr(self, '_m_metadata_csum', None)

        @property
        def orphan_present(self):
            """RO_COMPAT_ORPHAN_PRESENT, the orphan file may hold entries to clean up."""
            if hasattr(self, '_m_orphan_present'):
                return self._m_orphan_present

            self._m_orphan_present = self.raw & 65536 != 0
            return getattr(self, '_m_orphan_present', None)

        @property
        def project(self):
            """RO_COMPAT_PROJECT, project quotas and i_projid."""
            if hasattr(self, '_m_project'):
                return self._m_project

            self._m_project = self.raw & 8192 != 0
            return getattr(self, '_m_project', None)

        @property
        def quota(self):
            """RO_COMPAT_QUOTA, quota files in hidden inodes."""
            if hasattr(self, '_m_quota'):
                return self._m_quota

            self._m_quota = self.raw & 256 != 0
            return getattr(self, '_m_quota', None)

        @property
        def readonly(self):
            """RO_COMPAT_READONLY, the image must only be mounted read-only."""
            if hasattr(self, '_m_readonly'):
                return self._m_readonly

            self._m_readonly = self.raw & 4096 != 0
            return getattr(self, '_m_readonly', None)

        @property
        def replica(self):
            """RO_COMPAT_REPLICA, replicas (not in mainline)."""
            if hasattr(self, '_m_replica'):
                return self._m_replica

            self._m_replica = self.raw & 2048 != 0
            return getattr(self, '_m_replica', None)

        @property
        def shared_blocks(self):
            """RO_COMPAT_SHARED_BLOCKS, blocks may be shared between files (deduplicated image)."""
            if hasattr(self, '_m_shared_blocks'):
                return self._m_shared_blocks

            self._m_shared_blocks = self.raw & 16384 != 0
            return getattr(self, '_m_shared_blocks', None)

        @property
        def sparse_super(self):
            """RO_COMPAT_SPARSE_SUPER, backups only in groups 0, 1 and powers of 3, 5 and 7."""
            if hasattr(self, '_m_sparse_super'):
                return self._m_sparse_super

            self._m_sparse_super = self.raw & 1 != 0
            return getattr(self, '_m_sparse_super', None)

        @property
        def unknown_bits(self):
            """Set bits with no name here."""
            if hasattr(self, '_m_unknown_bits'):
                return self._m_unknown_bits

            self._m_unknown_bits = self.raw & ~131071
            return getattr(self, '_m_unknown_bits', None)

        @property
        def verity(self):
            """RO_COMPAT_VERITY, fs-verity files may exist."""
            if hasattr(self, '_m_verity'):
                return self._m_verity

            self._m_verity = self.raw & 32768 != 0
            return getattr(self, '_m_verity', None)


    @property
    def block_size(self):
        """Block size in bytes, 1 KiB to 64 KiB (bounded by the valid on s_log_block_size)."""
        if hasattr(self, '_m_block_size'):
            return self._m_block_size

        self._m_block_size = 1024 << self.s_log_block_size
        return getattr(self, '_m_block_size', None)

    @property
    def blocks_count(self):
        """Total blocks; the high half counts only with incompat 64bit."""
        if hasattr(self, '_m_blocks_count'):
            return self._m_blocks_count

        self._m_blocks_count = (self.s_blocks_count_hi << 32 | self.s_blocks_count_lo if self.s_feature_incompat.is_64bit else self.s_blocks_count_lo)
        return getattr(self, '_m_blocks_count', None)

    @property
    def cluster_size(self):
        """Cluster size in bytes (bigalloc); equal to block_size otherwise."""
        if hasattr(self, '_m_cluster_size'):
            return self._m_cluster_size

        self._m_cluster_size = 1024 << self.s_log_cluster_size
        return getattr(self, '_m_cluster_size', None)

    @property
    def desc_size(self):
        """Bytes per group descriptor (EXT4_DESC_SIZE)."""
        if hasattr(self, '_m_desc_size'):
            return self._m_desc_size

        self._m_desc_size = (self.s_desc_size if self.s_feature_incompat.is_64bit else 32)
        return getattr(self, '_m_desc_size', None)

    @property
    def first_error_time(self):
        """First error time, seconds since the epoch (40 bits)."""
        if hasattr(self, '_m_first_error_time'):
            return self._m_first_error_time

        self._m_first_error_time = self.s_first_error_time_hi << 32 | self.s_first_error_time
        return getattr(self, '_m_first_error_time', None)

    @property
    def first_ino(self):
        """First non-reserved inode (EXT4_FIRST_INO)."""
        if hasattr(self, '_m_first_ino'):
            return self._m_first_ino

        self._m_first_ino = (11 if self.s_rev_level == 0 else self.s_first_ino)
        return getattr(self, '_m_first_ino', None)

    @property
    def free_blocks_count(self):
        """Free blocks; the high half counts only with incompat 64bit."""
        if hasattr(self, '_m_free_blocks_count'):
            return self._m_free_blocks_count

        self._m_free_blocks_count = (self.s_free_blocks_count_hi << 32 | self.s_free_blocks_count_lo if self.s_feature_incompat.is_64bit else self.s_free_blocks_count_lo)
        return getattr(self, '_m_free_blocks_count', None)

    @property
    def group_count(self):
        """Number of block groups, ceil((blocks_count - s_first_data_block) /
        s_blocks_per_group); 0 when the block count does not exceed the first
        data block (corrupt). s_blocks_per_group >= 1 is guaranteed by valid.
        """
        if hasattr(self, '_m_group_count'):
            return self._m_group_count

        self._m_group_count = ((((self.blocks_count - self.s_first_data_block) + self.s_blocks_per_group) - 1) // self.s_blocks_per_group if self.blocks_count > self.s_first_data_block else 0)
        return getattr(self, '_m_group_count', None)

    @property
    def inode_size(self):
        """Bytes per inode record in the inode table (EXT4_INODE_SIZE)."""
        if hasattr(self, '_m_inode_size'):
            return self._m_inode_size

        self._m_inode_size = (128 if self.s_rev_level == 0 else self.s_inode_size)
        return getattr(self, '_m_inode_size', None)

    @property
    def last_error_time(self):
        """Latest error time, seconds since the epoch (40 bits)."""
        if hasattr(self, '_m_last_error_time'):
            return self._m_last_error_time

        self._m_last_error_time = self.s_last_error_time_hi << 32 | self.s_last_error_time
        return getattr(self, '_m_last_error_time', None)

    @property
    def lastcheck(self):
        """Last fsck time, seconds since the epoch (40 bits)."""
        if hasattr(self, '_m_lastcheck'):
            return self._m_lastcheck

        self._m_lastcheck = self.s_lastcheck_hi << 32 | self.s_lastcheck
        return getattr(self, '_m_lastcheck', None)

    @property
    def mkfs_time(self):
        """Creation time, seconds since the epoch (40 bits)."""
        if hasattr(self, '_m_mkfs_time'):
            return self._m_mkfs_time

        self._m_mkfs_time = self.s_mkfs_time_hi << 32 | self.s_mkfs_time
        return getattr(self, '_m_mkfs_time', None)

    @property
    def mtime(self):
        """Last mount time, seconds since the epoch (40 bits)."""
        if hasattr(self, '_m_mtime'):
            return self._m_mtime

        self._m_mtime = self.s_mtime_hi << 32 | self.s_mtime
        return getattr(self, '_m_mtime', None)

    @property
    def r_blocks_count(self):
        """Reserved blocks; the high half counts only with incompat 64bit."""
        if hasattr(self, '_m_r_blocks_count'):
            return self._m_r_blocks_count

        self._m_r_blocks_count = (self.s_r_blocks_count_hi << 32 | self.s_r_blocks_count_lo if self.s_feature_incompat.is_64bit else self.s_r_blocks_count_lo)
        return getattr(self, '_m_r_blocks_count', None)

    @property
    def state_error_fs(self):
        """EXT4_ERROR_FS, errors were detected."""
        if hasattr(self, '_m_state_error_fs'):
            return self._m_state_error_fs

        self._m_state_error_fs = int(self.s_state) & 2 != 0
        return getattr(self, '_m_state_error_fs', None)

    @property
    def state_orphan_fs(self):
        """EXT4_ORPHAN_FS, orphans are being recovered."""
        if hasattr(self, '_m_state_orphan_fs'):
            return self._m_state_orphan_fs

        self._m_state_orphan_fs = int(self.s_state) & 4 != 0
        return getattr(self, '_m_state_orphan_fs', None)

    @property
    def state_valid_fs(self):
        """EXT4_VALID_FS, cleanly unmounted."""
        if hasattr(self, '_m_state_valid_fs'):
            return self._m_state_valid_fs

        self._m_state_valid_fs = int(self.s_state) & 1 != 0
        return getattr(self, '_m_state_valid_fs', None)

    @property
    def wtime(self):
        """Last write time, seconds since the epoch (40 bits)."""
        if hasattr(self, '_m_wtime'):
            return self._m_wtime

        self._m_wtime = self.s_wtime_hi << 32 | self.s_wtime
        return getattr(self, '_m_wtime', None)


