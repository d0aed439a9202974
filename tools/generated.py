"""The command line every generator in ``tools`` shares: write the derived file, or with ``--check`` only say
whether the checked-in one is what the code gives (a test runs the check, so a stale file fails ``make test``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def main(argv: list[str] | None, *, module: str, description: str, output: Path, render: Callable[[], str]) -> int:
    command = f".venv/bin/python -m {module}"
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument("--check", action="store_true",
                        help=f"exit 1 if {output.name} is not up to date, writing nothing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not output.exists() or output.read_text(encoding="utf-8") != text:
            print(f"{output.name} is stale: run `{command}` to update it", file=sys.stderr)
            return 1
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}")
    return 0
