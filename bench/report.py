"""Figures, the table printed at the end, and the JSON written under ``.bench/``."""

import json
import os
import platform
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

Comparison = Literal[">=", "<="]


@dataclass(slots=True)
class Figure:
    name: str
    backend: str
    value: float | None  # None: not measured (see note)
    unit: str
    ratio: float | None = None  # value relative to ``ratio_to`` (same run)
    ratio_to: str = ""
    target: float | None = None  # what ``ratio`` (or ``value`` without a ratio) must reach
    compare: Comparison = ">="
    judge_value: bool = False  # the target applies to ``value`` even though a ratio is shown
    note: str = ""

    @property
    def judged(self) -> float | None:
        return self.ratio if self.ratio_to and not self.judge_value else self.value

    @property
    def met(self) -> bool | None:
        if self.target is None or self.judged is None:
            return None
        if self.compare == ">=":
            return self.judged >= self.target
        return self.judged <= self.target

    @classmethod
    def against_bare(
        cls,
        name: str,
        backend: str,
        rps: float,
        bare_rps: float,
        target: float | None = None,
        *,
        judge_value: bool = False,
        note: str = "",
    ) -> "Figure":
        """Requests per second, shown as a ratio to the bare Starlette run made just before
        (which cancels much of this shared machine's drift between runs)."""
        return cls(
            name,
            backend,
            rps,
            "req/s",
            rps / bare_rps,
            "bare",
            target,
            judge_value=judge_value,
            note=note,
        )


@dataclass(slots=True)
class Report:
    figures: list[Figure] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure

    def missing(self, name: str, backend: str, unit: str, why: str) -> None:
        self.add(Figure(name, backend, None, unit, note=why))


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit in ("req/s", "statements"):
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}"


def _target(figure: Figure) -> str:
    if figure.target is None:
        return ""
    suffix = "x" if figure.ratio_to and not figure.judge_value else f" {figure.unit}"
    return f"{figure.compare} {figure.target:g}{suffix}"


def render(report: Report, console: Console) -> None:
    table = Table(title="Blink directory benchmarks", show_lines=False)
    for column in ("figure", "backend", "value", "ratio", "target", "met", "note"):
        table.add_column(column, overflow="fold")
    for figure in report.figures:
        ratio = (
            f"{figure.ratio:.2f}x {figure.ratio_to}"
            if figure.ratio is not None and figure.ratio_to
            else ""
        )
        met = {True: "[green]yes[/]", False: "[red]NO[/]", None: ""}[figure.met]
        table.add_row(
            figure.name,
            figure.backend,
            _number(figure.value, figure.unit),
            ratio,
            _target(figure),
            met,
            figure.note,
        )
    console.print(table)
    for key, value in report.info.items():
        console.print(f"  {key}: {value}")


def machine() -> dict[str, str]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": f"{os.cpu_count()} x {model or platform.processor()}",
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_json(report: Report, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data = {
        "info": report.info,
        "figures": [{**asdict(f), "met": f.met} for f in report.figures],
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"results-{stamp}.json"
    text = json.dumps(data, indent=2, ensure_ascii=False)
    path.write_text(text)
    (directory / "results-latest.json").write_text(text)
    return path


def markdown(report: Report) -> str:
    """The table as Markdown, for the README's Performance section."""
    lines = [
        "| figure | backend | value | ratio | target | met | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for figure in report.figures:
        ratio = (
            f"{figure.ratio:.2f}x {figure.ratio_to}"
            if figure.ratio is not None and figure.ratio_to
            else ""
        )
        met = {True: "yes", False: "**no**", None: ""}[figure.met]
        cells = [
            figure.name,
            figure.backend,
            _number(figure.value, figure.unit),
            ratio,
            _target(figure).replace(">=", "≥").replace("<=", "≤"),
            met,
            figure.note,
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    info = "; ".join(f"{key}: {value}" for key, value in report.info.items())
    return "\n".join(lines) + f"\n\n{info}\n"
