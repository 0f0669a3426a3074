"""The documentation is self-contained: nothing cites files outside the repository, every cited
docs page and section exists, and every relative link in ``docs/`` resolves.

Users see the repository, never the team's shared folder, so a docstring, notebook or page that
points there (``DOMAIN.md``, ``STACK-NOTES``, ``../shared``) sends them nowhere.  Citations of the
form ``docs/<page>.md, 'Section'`` (docstrings) and ``[page.md](page.md), 'Section'`` (docs
pages) must name a page and a heading that exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: What the scan looks in: folders (recursively) and single files, relative to the root.
SCANNED = ("workbench", "notebooks", "dashboards", "docs", "README.md")
#: Text files worth scanning (compiled libraries, Parquet and the like are skipped).
TEXT_SUFFIXES = {
    ".py",
    ".ipynb",
    ".md",
    ".toml",
    ".csv",
    ".txt",
    ".c",
    ".h",
    ".json",
    ".yml",
    ".yaml",
    ".cfg",
    ".html",
    ".js",
    ".css",
}
#: References to documents outside the repository.
#: The shared folder's files, and its source documents by file name or number ("seed 001"):
#: literature is cited by paper (docs/index.md lists them).
FORBIDDEN = re.compile(
    r"DOMAIN\.md|STACK-NOTES|\.\./shared|\b\d{3}_[0-9a-f]{16}\.txt\b|\bseed[- ]0\d\d\b",
    re.IGNORECASE,
)
#: ``docs/<page>.md`` anywhere, optionally followed by ``, 'Section'`` (the section may wrap).
CODE_CITATION = re.compile(r"docs/([A-Za-z0-9_.-]+?\.md)(?:,\s+'([^'\n]+(?:\n[^'\n]+)?)')?")
#: A Markdown link (not an image), with the optional ``, 'Section'`` after it.
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)(?:,\s+'([^'\n]+(?:\n[^'\n]+)?)')?")


def scanned_files(root: Path) -> list[Path]:
    """The text files under the scanned folders plus the scanned single files."""
    out: list[Path] = []
    for name in SCANNED:
        path = root / name
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix in TEXT_SUFFIXES
                and "__pycache__" not in p.parts
                and ".ipynb_checkpoints" not in p.parts
            )
    return out


def forbidden_mentions(root: Path) -> list[str]:
    """``file:line: text`` for every mention of a document outside the repository."""
    found = []
    for path in scanned_files(root):
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if FORBIDDEN.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()[:120]}")
    return found


def headings(page: Path) -> set[str]:
    """The headings of a Markdown page, white space collapsed (code blocks skipped)."""
    out, fenced = set(), False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", line):
            out.add(" ".join(line.lstrip("#").split()))
    return out


def _section(raw: str | None) -> str | None:
    return None if raw is None else " ".join(raw.split())


def broken_code_citations(
    root: Path, folders: tuple[str, ...] = ("workbench", "notebooks", "dashboards", "README.md")
) -> list[str]:
    """Citations ``docs/<page>.md[, 'Section']`` whose page or section does not exist."""
    docs = root / "docs"
    bad = []
    for path in scanned_files(root):
        rel = path.relative_to(root)
        if rel.parts[0] not in folders:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":  # JSON: a cell's lines are strings joined by '\n",\n "'
            text = re.sub(r'\\n",\s*"', "\n", text)
        for m in CODE_CITATION.finditer(text):
            page, section = docs / m.group(1), _section(m.group(2))
            where = f"{rel}: docs/{m.group(1)}"
            if not page.is_file():
                bad.append(f"{where}: no such page")
            elif section is not None and section not in headings(page):
                bad.append(f"{where}: no section {section!r}")
    return bad


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def broken_doc_links(root: Path) -> list[str]:
    """Relative links (and ``, 'Section'`` after them) in ``docs/*.md`` that do not resolve."""
    bad = []
    for page in sorted((root / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # links in code are not links
        for m in LINK.finditer(text):
            target, section = m.group(1), _section(m.group(2))
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("//"):
                continue  # http:, https:, mailto:
            file_part, _, anchor = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            where = f"docs/{page.name}: ({target})"
            if not dest.exists():
                bad.append(f"{where}: no such file")
                continue
            if dest.suffix != ".md" or not dest.is_file():
                continue
            titles = headings(dest)
            if anchor and anchor not in {_slug(t) for t in titles}:
                bad.append(f"{where}: no heading with the anchor #{anchor}")
            if section is not None and section not in titles:
                bad.append(f"{where}: no section {section!r}")
    return bad


# ------------------------------------------------------------------------------ the checks


def test_nothing_cites_documents_outside_the_repository() -> None:
    found = forbidden_mentions(ROOT)
    assert not found, "cite the docs/ pages or the papers instead:\n" + "\n".join(found)


def test_every_docs_page_cited_by_the_code_exists() -> None:
    bad = broken_code_citations(ROOT)
    assert not bad, "\n".join(bad)


def test_every_relative_link_in_the_docs_resolves() -> None:
    bad = broken_doc_links(ROOT)
    assert not bad, "\n".join(bad)


def test_the_docs_index_links_every_page() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([A-Za-z0-9_.-]+\.md)\)", index))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md"}
    assert pages <= linked, f"pages missing from docs/index.md: {sorted(pages - linked)}"


def test_the_readme_points_to_the_docs() -> None:
    assert "](docs/index.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------------------- the checks can fail


@pytest.fixture
def fake_repo(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "workbench").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# Index\n\n## Scores\n\nSee [rfm.md](rfm.md), 'Scores' and [gone](gone.md).\n"
        "[ok](index.md#scores) [bad anchor](index.md#nowhere) [web](https://example.org/x)\n"
        "[wrong section](index.md), 'Nowhere'\n```\n[in code](missing.md)\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "docs" / "rfm.md").write_text("# RFM\n\n## Scores\n", encoding="utf-8")
    (tmp_path / "workbench" / "mod.py").write_text(
        "\"\"\"See docs/rfm.md, 'Scores' and docs/rfm.md,\n    'Missing section'.\n\n"
        'Also docs/kpi.md and ``DOMAIN.md`` section 3 and ../shared/data.\n'
        'As seed 001 says (001_7752035283ba344f.txt)."""\n',
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text("STACK-NOTES says so\n", encoding="utf-8")
    return tmp_path


def test_the_scan_finds_outside_references(fake_repo: Path) -> None:
    found = forbidden_mentions(fake_repo)
    assert list(dict.fromkeys(f.split(":")[0] for f in found)) == ["workbench/mod.py",
                                                                   "README.md"]
    assert "DOMAIN.md" in found[0] and "../shared" in found[0]
    assert any("seed 001" in f for f in found)


def test_the_scan_finds_missing_pages_and_sections(fake_repo: Path) -> None:
    assert broken_code_citations(fake_repo) == [
        "workbench/mod.py: docs/rfm.md: no section 'Missing section'",
        "workbench/mod.py: docs/kpi.md: no such page",
    ]


def test_the_scan_finds_broken_links(fake_repo: Path) -> None:
    assert broken_doc_links(fake_repo) == [
        "docs/index.md: (gone.md): no such file",
        "docs/index.md: (index.md#nowhere): no heading with the anchor #nowhere",
        "docs/index.md: (index.md): no section 'Nowhere'",
    ]


def test_github_anchors() -> None:
    assert _slug("The 125-code segment map") == "the-125-code-segment-map"
    assert _slug('The change, and when it is "n/a"') == "the-change-and-when-it-is-na"
