"""A campaign's record: the JSON report and the PNG plot of coverage and exec/s over time.

The runner samples every target once a second (`Sample`); `write_json` writes the report
(settings, per-target totals, findings, the samples), `write_plot` draws two panels
with matplotlib's Agg backend (no display needed): libFuzzer's edge coverage of the parser
per target, and exec/s per target, against elapsed seconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Sample:
    """One target's state at one moment of the campaign."""

    t: float  # seconds since the campaign started
    target: str
    execs: int  # inputs run so far (all workers of the target, all runs of this campaign)
    exec_per_s: float  # over the last sampling interval
    cov: int  # libFuzzer's edge coverage of the parser (best worker)
    ft: int  # libFuzzer's features (best worker)
    corpus: int  # files in the target's corpus dir
    findings: int  # distinct signatures found for the target (this campaign and before)


def write_json(path: Path, doc: Mapping[str, Any], samples: Sequence[Sample]) -> None:
    """The report: `doc` plus the samples, written atomically (it is rewritten as the
    campaign goes, and a reader may look at any moment)."""
    full = dict(doc)
    full["samples"] = [asdict(s) for s in samples]
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(full, indent=1) + "\n")
    tmp.replace(path)


def write_plot(path: Path, samples: Sequence[Sample], title: str) -> None:
    """Coverage and exec/s over time, one line per target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_target: dict[str, list[Sample]] = {}
    for s in samples:
        by_target.setdefault(s.target, []).append(s)
    fig, (cov_ax, rate_ax) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, layout="constrained")
    for target, rows in sorted(by_target.items()):
        times = [r.t for r in rows]
        (line,) = cov_ax.plot(times, [r.cov for r in rows], label=target)
        # A target that is not running has no rate: a gap, not a line along zero.
        rates = [r.exec_per_s if r.exec_per_s > 0 else float("nan") for r in rows]
        rate_ax.plot(times, rates, color=line.get_color())
    cov_ax.set_ylabel("parser edges covered\n(libFuzzer cov)")
    rate_ax.set_ylabel("exec/s (log)")
    rate_ax.set_yscale("log")
    rate_ax.set_xlabel("elapsed seconds")
    cov_ax.set_title(title)
    for ax in (cov_ax, rate_ax):
        ax.grid(True, alpha=0.3)
    if by_target:
        fig.legend(loc="outside right upper", fontsize="small")
    fig.savefig(path, dpi=100)
    plt.close(fig)
