"""Reference data from tools nobody on the team wrote (e2fsprogs), produced at test time.

Import as ``from tests.reference import e2fsprogs`` (``tests/conftest.py`` puts the repository
root on ``sys.path``).
"""
