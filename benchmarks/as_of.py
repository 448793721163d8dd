"""A module of hairtrack as another commit had it, for benchmarks that print the same figures for a baseline."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def module_as_of(rev: str, relpath: str) -> ModuleType:
    """Load ``relpath`` (e.g. ``hairtrack/imaging/quality.py``) as of commit ``rev`` (read with ``git show``),
    under a name of its own, beside this version's modules; its own imports resolve to this version."""
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{relpath}"], capture_output=True)
    if shown.returncode != 0:
        raise SystemExit(f"cannot read {relpath} as of {rev}: {shown.stderr.decode(errors='replace').strip()} "
                         "(a shallow clone? git fetch --unshallow)")
    name = Path(relpath).stem + "_as_of_" + "".join(c if c.isalnum() else "_" for c in rev)
    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_bytes(shown.stdout)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module
