"""Function code zipped at synth time, reproducibly.

Entries sorted, every timestamp 1980-01-01, mode 0644: the same source always
gives the same bytes, so ``source_code_hash`` changes only when the code does.
"""

from __future__ import annotations

import base64
import hashlib
import stat
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def build_zip(source: str, name: str) -> Path:
    """``ROOT/source`` zipped into a fresh temporary folder as ``name.zip``."""
    folder = ROOT / source
    out = Path(tempfile.mkdtemp(prefix=f"{name}-")) / f"{name}.zip"
    files = sorted(
        (path.relative_to(folder).as_posix(), path)
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name_in_zip, path in files:
            entry = zipfile.ZipInfo(name_in_zip, date_time=ZIP_EPOCH)
            entry.external_attr = (stat.S_IFREG | 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return out


def base64_sha256(path: Path) -> str:
    """What Terraform's filebase64sha256() gives for the file."""
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
