"""Paper-vs-ours tables: the row format every reproduction writes, and its renderings.

A table is a list of ``Row``s, one per (dataset, attack, defense, metric) cell. ``table.json`` holds
them as a list of objects {dataset, attack, defense, metric, ours, paper, verdict}; ``ours`` or
``paper`` is null where there is no number (an attack not implemented yet, a cell the paper does
not report).
"""

from __future__ import annotations

import csv
import platform
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from unpoison.logging import write_json_atomic
from unpoison.models.precision import native_bf16

NOT_IMPLEMENTED = "not implemented"


@dataclass(frozen=True)
class Row:
    """One cell of a reproduced table."""

    dataset: str
    attack: str
    defense: str
    metric: str
    ours: float | None
    paper: float | None
    verdict: str


def read_paper_values(path: str | Path) -> dict[tuple[str, str, str, str], float]:
    """Read a paper-table CSV with columns dataset, attack, defense, metric, value."""
    with open(path, newline="") as handle:
        return {
            (r["dataset"], r["attack"], r["defense"], r["metric"]): float(r["value"])
            for r in csv.DictReader(handle)
        }


def write_table_json(rows: list[Row], path: str | Path) -> None:
    """Write the rows as a JSON list (atomically)."""
    write_json_atomic(path, [asdict(r) for r in rows])


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_text(rows: list[Row]) -> str:
    """The table as aligned plain text, for the terminal."""
    header = ("dataset", "attack", "defense", "metric", "paper", "ours", "verdict")
    body = [
        (r.dataset, r.attack, r.defense, r.metric, _number(r.paper), _number(r.ours), r.verdict)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def format_markdown(rows: list[Row]) -> str:
    """The table as GitHub markdown."""
    lines = [
        "| dataset | attack | defense | metric | paper | ours | verdict |",
        "|---|---|---|---|---:|---:|---|",
    ]
    lines += [
        f"| {r.dataset} | {r.attack} | {r.defense} | {r.metric} | {_number(r.paper)} "
        f"| {_number(r.ours)} | {r.verdict} |"
        for r in rows
    ]
    return "\n".join(lines)


def hardware_summary() -> str:
    """One line naming the processor or GPU (and whether it computes bf16 natively), the core
    count and the torch version. A CPU is named by its model and by the vector instructions
    torch's kernels use, since short runs on digits round differently, and so end differently,
    from one CPU to another."""
    if torch.cuda.is_available():
        device = torch.cuda.get_device_name(0)
    else:
        device = f"CPU ({cpu_model()}, {torch.backends.cpu.get_cpu_capability()} kernels)"
    if native_bf16("cuda" if torch.cuda.is_available() else "cpu"):
        device += " with native bf16"
    return (
        f"{device}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, "
        f"Python {platform.python_version()}, {platform.system()}"
    )


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name as Linux reports it, else what ``platform`` knows (often only the
    architecture)."""
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    return platform.processor() or platform.machine()
