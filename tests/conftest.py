"""Repository-wide pytest setup.

Makes the repository root importable so shared test helpers are imported by their package path,
e.g. ``from tests.reference import e2fsprogs``, whatever pytest's rootdir or import mode.  The
root is *appended* to ``sys.path`` so it cannot shadow installed or stdlib modules.
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)
