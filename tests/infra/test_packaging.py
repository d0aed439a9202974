"""A host app installs Parley with pip from a wheel (or a path), and the installed construct finds its Lambda
code inside the package: the repository's folders are not needed once the wheel is built."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.synthesis import REPO_ROOT

pytestmark = pytest.mark.infra

# What a wheel is built from (the rest of the repository, tests and docs included, is not needed).
_SOURCES = ["pyproject.toml", "setup.py", "README.md", "infra", "functions", "layers", "local"]

_PROBE = """
import json, infra
from infra import Parley, constants
print(json.dumps({"infra": infra.__file__, "parley": Parley.__module__,
                  "functions": str(constants.FUNCTIONS_DIR), "layer": str(constants.PARLEY_LAYER_DIR),
                  "requirements": [str(constants.AUTHORIZER_REQUIREMENTS), str(constants.THUMBNAILS_REQUIREMENTS)]}))
"""


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    # given a copy of the repository's sources (so the build leaves nothing behind in the checkout)
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    for name in _SOURCES:
        path = REPO_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    # when a wheel is built and installed into a folder of its own
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist"),
          str(source)], cwd=work)
    (wheel,) = (work / "dist").glob("parley-*.whl")
    _run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-compile",
          "--target", str(work / "site"), str(wheel)], cwd=work)
    # and a host app's Python imports the construct from there (CDK itself from this environment), far away
    # from the repository
    env = {**os.environ, "PYTHONPATH": str(work / "site"), "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
    host = work / "host"
    host.mkdir()
    (host / "probe.py").write_text(_PROBE)
    found: dict = json.loads(_run([sys.executable, "probe.py"], cwd=host, env=env).strip().splitlines()[-1])
    found["site"] = str(work / "site")
    return found


def test_the_construct_is_imported_from_the_installed_wheel(installed: dict) -> None:
    assert installed["infra"].startswith(installed["site"])
    assert installed["parley"] == "infra.construct"


def test_the_installed_construct_finds_its_lambda_code_in_the_package(installed: dict) -> None:
    # then every function folder, the core layer and the dependency pins are inside the installed package
    functions = Path(installed["functions"])
    assert functions.is_relative_to(Path(installed["site"]) / "infra" / "_assets")
    for folder in (REPO_ROOT / "functions").iterdir():
        if (folder / "handler.py").is_file():
            assert (functions / folder.name / "handler.py").is_file(), folder.name
    assert (Path(installed["layer"]) / "python" / "parley" / "auth.py").is_file()
    assert all(Path(requirements).is_file() for requirements in installed["requirements"])
    # and no bytecode of the build machine's Python travels in the wheel
    assert not list(Path(installed["site"], "infra", "_assets").rglob("__pycache__"))
