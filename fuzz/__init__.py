"""ext4guard.fuzz"""
