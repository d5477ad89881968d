"""Every ```python block of README.md, the crates' and this package's READMEs and docs/*.md runs,
each as its own script.

Each block runs in a fresh temporary directory, in a new interpreter (this one's), with the
``CYRISMA_*`` variables of a fresh emulator in its environment, so ``cyrisma.Client.from_env()``
works. Blocks fenced as ```python no-run are skipped (third-party imports, fragments). Pages
added later are picked up by themselves. A failing block is reported with its file and line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import cyrisma

ROOT = Path(__file__).resolve().parents[3]
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)(.*)$")

#: A hang guard only (a block that hangs fails instead of blocking the suite); never a speed check.
HANG_GUARD_SECONDS = 600


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    code: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    found = [
        ROOT / "README.md",
        ROOT / "bindings/python/README.md",
        *sorted((ROOT / "crates").glob("*/README.md")),
        *sorted((ROOT / "docs").glob("*.md")),
    ]
    return [path for path in found if path.is_file()]


def blocks(path: Path) -> list[Block]:
    """The runnable ```python blocks of one Markdown file (line = the opening fence's)."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, fence, language, rest = match.groups()
        start = index
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = lines[index].strip()
            if closing.startswith(fence) and set(closing) == {fence[0]}:
                break
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index])
            index += 1
        index += 1
        flags = rest.split()
        if language == "python" and "no-run" not in flags:
            found.append(Block(path, start + 1, "\n".join(body) + "\n"))
    return found


ALL_BLOCKS = [block for page in pages() for block in blocks(page)]


def test_the_docs_have_python_blocks() -> None:
    """The collection is not vacuous: the Python guide's examples are found."""
    guide = [block for block in ALL_BLOCKS if block.path.name == "python.md"]
    assert len(guide) >= 5, [block.where for block in ALL_BLOCKS]


def test_fences_are_parsed(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# t\n\n```python\nprint(1)\n```\n\n```python no-run\nimport pandas\n```\n\n```sh\nls\n```\n\n"
        "- item\n\n  ```python\n  x = 2\n  ```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(block.line, block.code) for block in found] == [(3, "print(1)\n"), (17, "x = 2\n")]


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[block.where for block in ALL_BLOCKS])
def test_block_runs(block: Block, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    # Line numbers in tracebacks match the Markdown file's.
    script.write_text("\n" * block.line + block.code, encoding="utf-8")
    with cyrisma.Emulator(seed=3, organizations=2, instances=6, scans_per_instance=2, assets_per_scan=4) as emu:
        env = {name: value for name, value in os.environ.items() if not name.startswith("CYRISMA_")}
        env.update(emu.env())
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        completed = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if completed.returncode != 0:
        pytest.fail(
            f"the python block at {block.where} failed (exit {completed.returncode}):\n"
            f"--- stdout\n{completed.stdout}\n--- stderr\n{completed.stderr}",
            pytrace=False,
        )
