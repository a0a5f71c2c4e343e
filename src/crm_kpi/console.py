"""How the commands talk: one timestamped line per step (`say`), and a rich console for tables (colour and
the terminal's width on a terminal; plain text, wide enough for a path, in a piped log)."""

from __future__ import annotations

import io
import sys
import time

from rich.console import Console, RenderableType

PIPED_WIDTH = 160  # columns of a table written to a file or a pipe


def say(message: str) -> None:
    print(f"[crm-kpi {time.strftime('%H:%M:%S')}] {message}", flush=True)


def terminal() -> Console:
    return Console(highlight=False, width=None if sys.stdout.isatty() else PIPED_WIDTH)


def show(*renderables: RenderableType) -> None:
    """Print tables: as rich draws them on a terminal; elsewhere as plain lines without trailing blanks."""
    if sys.stdout.isatty():
        terminal().print(*renderables)
        return
    console = Console(file=io.StringIO(), width=PIPED_WIDTH, color_system=None, highlight=False)
    console.print(*renderables)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    print("\n".join(line.rstrip() for line in str(text).splitlines()), flush=True)
