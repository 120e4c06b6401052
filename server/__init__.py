"""ext4guard.server"""
