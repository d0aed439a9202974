"""Packaging beyond pyproject.toml: a wheel of Parley carries its Lambda code.

The ``Parley`` construct deploys the handler folders (``functions/``) and the core layer (``layers/``) as
assets. They stay where the repository keeps them; building a wheel copies them into the ``infra`` package
(``infra/_assets/``), where ``infra.constants`` looks first. An editable install (``pip install -e``) uses the
repository's folders directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

_ROOT = Path(__file__).resolve().parent
_ASSETS = ("functions", "layers")


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "infra" / "_assets"
        for folder in _ASSETS:
            shutil.rmtree(target / folder, ignore_errors=True)
            shutil.copytree(_ROOT / folder, target / folder,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithAssets})
