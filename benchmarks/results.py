"""benchmarks/RESULTS.md: one section per benchmark, replaced when it runs again, each stamped
with the machine and the date it was measured on."""
from __future__ import annotations

import os
import platform
import re
import time
from datetime import datetime, timezone
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "# Benchmark results\n\nWritten by `benchmarks/run <name>`; each section says where and when it was measured.\n"


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return (f"{os.cpu_count()} × {cpu}, {mem_kib / 1024 / 1024:.0f} GiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


def core_speed() -> str:
    """How fast one core runs Python just now: shared machines of the same name differ by half and
    drift within an hour, and a figure is only worth comparing with one from a core as fast."""
    started = time.perf_counter()
    total = 0
    for number in range(2_000_000):
        total += number
    return f"2M Python additions in {(time.perf_counter() - started) * 1000:.0f} ms"


def record(name: str, body: str) -> None:
    """Replace (or add) the section `name` of RESULTS.md."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = (f"<!-- {name} -->\n## {name}\n\n_Measured {stamp} on {machine()} ({core_speed()} at the end)._\n\n"
               f"{body.strip()}\n<!-- /{name} -->\n")
    text = RESULTS.read_text() if RESULTS.exists() else TITLE
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->\n", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)
    print(section)


def add_section_argument(parser, default: str | None = None) -> None:
    """--section: the section of RESULTS.md a run writes, to keep it beside another (a before and an
    after, or another day's host)."""
    parser.add_argument("--section", default=default, help="the section of RESULTS.md to write "
                        f"(default: {default or 'named after what is run'}); another name keeps a run beside the last")


def load_note(load_before: float) -> str:
    """How busy the machine was: its 1-minute load average when the run began (`load_before`) and now."""
    return f"Load average {load_before:.1f} when the run began, {os.getloadavg()[0]:.1f} when it ended."


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_kib(pid: int) -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and every process under it (a `serve --workers N` supervisor and its workers)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue                        # gone meanwhile
    tree, grown = [pid], True
    while grown:
        more = [child for child, parent in parents.items() if parent in tree and child not in tree]
        tree += more
        grown = bool(more)
    return tree


def table(columns: list[str], align: str, rows: list[list[str]]) -> str:
    """A Markdown table of formatted cells; `align` has a letter a column: "l" left, "r" right."""
    rule = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(rule[a] for a in align) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"
