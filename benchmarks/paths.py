"""Where things are in the repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
LAYER_DIR = REPO_ROOT / "layers" / "parley"
BUILD_DIR = REPO_ROOT / ".build"
DOCS_PERFORMANCE = REPO_ROOT / "docs" / "performance.md"
OUT_DIR = REPO_ROOT / "benchmarks" / "out"
