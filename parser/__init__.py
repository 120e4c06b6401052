"""ext4guard.parser"""
