"""Files the app creates hold the whole workspace (accounts and their password hashes
included), so they are private to the account the app runs as: files 0600, folders 0700
(README "Files and permissions")."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_folder(path: Path) -> Path:
    """Create a folder (and its missing parents) readable only by this account. A folder
    that exists is left as it is: it may be shared on purpose, and it is not ours."""
    path = Path(path)
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        os.chmod(folder, PRIVATE_FOLDER)  # mkdir's mode is narrowed by the umask only
    return path


def private_file(path: Path) -> Path:
    """Create an empty file 0600 when it does not exist (SQLite then creates its WAL and
    shared-memory files with the same permissions), or narrow a file we just wrote."""
    path = Path(path)
    private_folder(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE)
    os.close(descriptor)
    os.chmod(path, PRIVATE_FILE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a file created 0600 (an export: readings and notes are the workspace's)."""
    path = Path(path)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chmod(path, PRIVATE_FILE)
