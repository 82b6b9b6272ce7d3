"""Reproducible Lambda zip files: the same source always gives the same bytes.

Zip entries carry timestamps, permissions and an order; fixing all three
(sorted paths, 1980-01-01, 0644) makes the archive a pure function of the
source files, so the asset hash and ``source_code_hash`` only change when
the code does. A ``requirements.txt`` in the source folder names exact pins
of pure-Python packages to vendor from the synth environment; a version
mismatch is an error, never a silently different zip.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}
REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_ROOT = REPO_ROOT / "lambda"


@dataclass(frozen=True)
class LambdaPackage:
    """A built zip and the Terraform ``source_code_hash`` of its bytes."""

    path: Path
    source_code_hash: str


def source_files(source_dir: Path) -> list[Path]:
    """Files that go into the zip, in a stable order."""
    files = [
        path
        for path in source_dir.rglob("*")
        if path.is_file()
        and not SKIPPED_PARTS.intersection(path.relative_to(source_dir).parts)
        and path.suffix != ".pyc"
    ]
    return sorted(files, key=lambda path: path.relative_to(source_dir).as_posix())


_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)")


def vendored_files(source_dir: Path) -> list[tuple[str, Path]]:
    """(name in zip, installed file) for each package pinned in ``requirements.txt``."""
    requirements = source_dir / "requirements.txt"
    if not requirements.is_file():
        return []
    entries: list[tuple[str, Path]] = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _PIN.match(line)
        if not match:
            raise ValueError(f"{requirements}: '{line}' is not an exact pin (name==version)")
        name, wanted = match.groups()
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise ValueError(f"{requirements}: {name}=={wanted} is not installed") from None
        if dist.version != wanted:
            raise ValueError(f"{requirements}: {name} is {dist.version}, the pin says {wanted}")
        for file in dist.files or []:
            relative = file.as_posix()
            if relative.startswith("..") or "__pycache__" in relative or relative.endswith(".pyc"):
                continue
            entries.append((relative, Path(str(dist.locate_file(file)))))
    return entries


def zip_bytes_hash(data: bytes) -> str:
    """Base64 SHA-256, the form Terraform's ``filebase64sha256`` returns."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def build_zip(source_dir: Path, destination: Path) -> LambdaPackage:
    """Zip ``source_dir`` into ``destination`` deterministically."""
    if not source_dir.is_dir():
        raise FileNotFoundError(f"{source_dir}: Lambda source folder not found")
    destination.parent.mkdir(parents=True, exist_ok=True)
    entries = [(path.relative_to(source_dir).as_posix(), path) for path in source_files(source_dir)]
    entries += vendored_files(source_dir)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return LambdaPackage(destination, zip_bytes_hash(destination.read_bytes()))
