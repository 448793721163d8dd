"""The image store: files named by the SHA-256 of their bytes, written once, never overwritten.

Only :class:`hairtrack.tracking.store.Store` calls this; it decides when a file is no longer referenced.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from hairtrack.errors import InputError

__all__ = ["ImageStore"]

_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class ImageStore:
    """Content-addressed files under ``root``: ``root/ab/abcdef....`` (the first two hex digits fan out)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        """Where the image with this digest lives (whether or not it exists)."""
        if not _SHA256_RE.match(sha256):
            raise InputError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Store ``data`` unless an identical file is there already; return its SHA-256 hex digest.

        The file appears atomically (written to a temporary name, then renamed), so a reader never
        sees half an image and a crash leaves no partial file under the final name.
        """
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest)
        if target.exists():
            return digest
        for folder in (self.root, target.parent):  # new folders readable by their owner only, as the files
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o600)  # health data: readable by its owner only
            if target.exists():  # another process stored the same bytes meanwhile
                os.unlink(tmp)
            else:
                os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return digest

    def read(self, sha256: str) -> bytes:
        """The bytes of a stored image."""
        return self.path_for(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def delete(self, sha256: str) -> bool:
        """Remove a stored image; True if a file was removed."""
        path = self.path_for(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        try:
            path.parent.rmdir()  # only succeeds when the fan-out folder is now empty
        except OSError:
            pass
        return True
