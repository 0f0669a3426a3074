"""bench/equivalent_mutants.txt names mutants by module and line number: when a module changes,
its entries must follow, or the mutation script would judge a different mutant equivalent.
Each entry's line must still hold what the mutant changes (the operator or the constant)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = re.compile(r"^(?P<module>[\w/]+\.py):(?P<line>\d+)\s+(?P<old>\S+) -> (?P<new>\S+)\s+#")
#: What an AST operator of the mutation script looks like in the source.
OPERATORS = {"Lt": "<", "LtE": "<=", "Gt": ">", "GtE": ">=", "Eq": "==", "NotEq": "!=",
             "Add": "+", "Sub": "-", "Mult": "*", "Div": "/", "FloorDiv": "//", "Mod": "%",
             "Pow": "**", "And": "and", "Or": "or", "BitAnd": "&", "BitOr": "|"}


def entries() -> list[re.Match[str]]:
    text = (ROOT / "bench" / "equivalent_mutants.txt").read_text(encoding="utf-8")
    return [m for line in text.splitlines() if (m := ENTRY.match(line))]


def test_every_equivalent_mutant_points_at_its_source_line() -> None:
    found = entries()
    assert len(found) >= 20  # the file is read: its entries are not silently skipped
    stale = []
    for m in found:
        lines = (ROOT / "workbench" / m["module"]).read_text(encoding="utf-8").splitlines()
        number = int(m["line"])
        source = lines[number - 1] if number <= len(lines) else ""
        token = OPERATORS.get(m["old"], m["old"])
        if token not in source:
            stale.append(f"{m['module']}:{number} has no {token!r}: {source.strip()[:80]}")
    assert not stale, "update bench/equivalent_mutants.txt:\n" + "\n".join(stale)
