"""Markdown pieces every section of the results uses: tables, dollar amounts, goal verdicts."""

from __future__ import annotations


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.995 else f"${value:,.3f}"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"
