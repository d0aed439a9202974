"""Third-party dependencies of a function (the authorizer's PyJWT[crypto], the thumbnail maker's Pillow),
built for Lambda without Docker.

pip downloads the pinned wheels for Lambda's platform (Linux arm64, CPython 3.13) into a folder under
``.build/`` named after a hash of the pins and the pip options, so a re-synth with unchanged pins costs
nothing; the folder then ships as a plain layer asset.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra import constants

# Only wheels for Lambda's platform: --only-binary refuses sdists, which would build for this machine.
_PLATFORM_OPTIONS = [
    "--platform", "manylinux2014_aarch64",
    "--implementation", "cp",
    "--python-version", "3.13",
    "--only-binary=:all:",
]


def layer_folder(requirements: Path = constants.AUTHORIZER_REQUIREMENTS,
                 build_dir: Path = constants.BUILD_DIR) -> Path:
    """A layer folder (``python/...``) holding ``requirements``, installed for Lambda once per pin set."""
    key = hashlib.sha256(requirements.read_bytes() + " ".join(_PLATFORM_OPTIONS).encode()).hexdigest()[:16]
    folder = build_dir / f"{requirements.stem}-{key}"
    if folder.is_dir():  # only a finished build is ever renamed to this name
        return folder
    build_dir.mkdir(parents=True, exist_ok=True)
    # Install into a scratch folder and rename it at the end, so an interrupted build is never reused.
    scratch = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=build_dir))
    try:
        # Trusted argv: this interpreter's pip, fixed options, and a requirements file of this repo.
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
             *_PLATFORM_OPTIONS, "--target", str(scratch / "python"), "--requirement", str(requirements)],
            check=True,
        )
        shutil.rmtree(scratch / "python" / "bin", ignore_errors=True)  # console scripts: not importable
        try:
            scratch.rename(folder)
        except OSError:
            if not folder.is_dir():
                raise
            # another synth finished the same build first: use theirs
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder
