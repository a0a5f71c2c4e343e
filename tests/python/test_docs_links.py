"""The README and the pages under docs/ link to each other: every relative link points to a file that exists,
and every anchor (`page.md#section`, `#section`) to a heading of that page, slugged as GitHub does."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from crm_kpi.paths import project_root

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^(```|~~~)")


def _prose(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans removed."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", "", line))
    return lines


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lowercase, punctuation dropped, spaces as hyphens, and a
    repeated heading numbered (-1, -2, ...)."""
    seen: Counter[str] = Counter()
    found = set()
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
        heading = None if fenced else re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
        if not heading:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        found.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def broken_links(page: Path) -> list[str]:
    """Each relative link of a markdown page whose file or anchor does not exist."""
    broken = []
    for line in _prose(page.read_text(encoding="utf-8")):
        for target in _LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                continue
            path_part, _, anchor = target.partition("#")
            linked = (page.parent / path_part).resolve() if path_part else page
            if not linked.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
                broken.append(f"{page.name}: {target} (no such heading in {linked.name})")
    return broken


def _pages() -> list[Path]:
    root = project_root()
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def test_every_relative_link_and_anchor_resolves() -> None:
    broken = [problem for page in _pages() for problem in broken_links(page)]
    assert not broken, broken


def test_the_readme_links_every_docs_page_and_stays_short() -> None:
    readme = (project_root() / "README.md").read_text(encoding="utf-8")
    unlinked = [page.name for page in _pages()[1:] if f"](docs/{page.name}" not in readme]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"
    assert len(readme.splitlines()) < 300, "the README is read in ten minutes: move a section to docs/"


def test_a_missing_file_or_heading_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## Where we differ, and why\n\n## Notes\n\n## Notes\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md#where-we-differ-and-why) [ok](other.md#notes-1) [ok](#page)\n"
        "[gone](missing.md) [no heading](other.md#nowhere) [no local](#elsewhere)\n"
        "```\n[inside code](nothing.md)\n```\n`[span](nothing.md)` [web](https://example.org/x.md)\n"
    )
    assert broken_links(page) == [
        "page.md: missing.md (no such file)",
        "page.md: other.md#nowhere (no such heading in other.md)",
        "page.md: #elsewhere (no such heading in page.md)",
    ]
