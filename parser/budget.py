"""Per-operation budgets: every walk over on-disk data is bounded by what it may cost.

A budget is created for one public call (a lookup, one readdir, one iomap request) and
charged for every metadata block read, every entry decoded and every level descended.
On-disk counts never size a loop on their own (DESIGN.md, "Bounds"): the loop also stops
when its budget does, with `BudgetExceeded` naming what ran out.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BudgetExceeded, Where

#: Depth of any tree ext4 can hold: extent trees are at most 5 levels, htrees 3.
MAX_TREE_DEPTH = 5


@dataclass(slots=True)
class Budget:
    """What one operation may still spend. Limits are generous for honest images."""

    blocks: int = 1 << 20
    entries: int = 1 << 22

    def charge_blocks(self, count: int = 1, where: Where | None = None) -> None:
        self.blocks -= count
        if self.blocks < 0:
            raise BudgetExceeded("operation read more metadata blocks than its budget", where)

    def charge_entries(self, count: int = 1, where: Where | None = None) -> None:
        self.entries -= count
        if self.entries < 0:
            raise BudgetExceeded("operation decoded more entries than its budget", where)
