"""What every command shares: the --db/--data-dir/--json options, opening the store, printing, failing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperGroup

from hairtrack.config import Settings
from hairtrack.errors import CsvError, HairtrackError
from hairtrack.tracking import Store

__all__ = [
    "DbOpt",
    "DataDirOpt",
    "JsonOpt",
    "ProfileOpt",
    "HairtrackGroup",
    "open_store",
    "settings_from",
    "scale_option",
    "emit_json",
    "out",
    "err",
    "fail",
    "read_input_file",
    "progress_bar",
    "path_label",
]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database: a SQLite file path or a postgresql:// URL. Default: $HAIRTRACK_DB, else "
        "hairtrack.sqlite3 in the data folder.",
        show_default=False,
        rich_help_panel="Storage",
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder for the default database and the image store. Default: $HAIRTRACK_DATA_DIR, else "
        "the user's data folder.",
        show_default=False,
        rich_help_panel="Storage",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="Profile (person) name.", show_default=False)]

# A CSV larger than this is refused before reading: a clinic's whole history is a few MB.
MAX_INPUT_BYTES = 200 * 1024 * 1024


class HairtrackGroup(TyperGroup):
    """Turns :class:`HairtrackError` from any command into one clear stderr message and exit status 1."""

    def invoke(self, ctx: Any) -> Any:
        from pydantic import ValidationError

        try:
            return super().invoke(ctx)
        except HairtrackError as exc:
            fail(exc)
        except ValidationError as exc:  # a HAIRTRACK_* setting that is not a valid value
            problems = "; ".join(f"HAIRTRACK_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
            fail(f"bad setting: {problems}")
        except OSError as exc:  # a file to write in a missing folder, a folder given as a file, no permission
            where = f"{exc.filename}: " if exc.filename else ""
            fail(f"{where}{exc.strerror or exc}")


def fail(exc: HairtrackError | str, *, context: str | None = None) -> NoReturn:
    """Print an error for a person (no traceback) and exit 1."""
    if isinstance(exc, CsvError):
        if context:
            err.print(f"hairtrack: {context}: rejected, nothing was imported", markup=False)
        for line, reason in exc.problems:
            err.print(f"line {line}: {reason}", markup=False)
    else:
        prefix = f"{context}: " if context else ""
        err.print(f"hairtrack: error: {prefix}{exc}", markup=False)
    raise typer.Exit(1)


def scale_option(px_per_mm: float | None) -> float | None:
    """Check ``--px-per-mm`` with the one scale check of the imaging code, naming the option."""
    from hairtrack.imaging.calibration import check_px_per_mm

    try:
        return check_px_per_mm(px_per_mm)
    except HairtrackError as exc:
        fail(str(exc).replace("px_per_mm", "--px-per-mm", 1))


def settings_from(db: str | None, data_dir: Path | None) -> Settings:
    """Settings from the environment, overridden by the command's options."""
    overrides: dict[str, Any] = {}
    if db is not None:
        overrides["db"] = db
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)


def open_store(db: str | None, data_dir: Path | None) -> Store:
    """Open (and migrate if needed) the store the options and environment name."""
    return Store.from_settings(settings_from(db, data_dir))


def _default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def progress_bar(*columns: Any, disable: bool = False) -> Any:
    """A Rich progress bar on stderr that leaves stdout alone.

    Rich's default sends whatever the program writes to stdout while the bar is shown through the bar's own
    console, stderr: ``hairtrack analyze --json > out.jsonl`` in a terminal would leave the file empty and
    the results on the screen. Only when stdout is a terminal too (both end on the screen) is it drawn above
    the bar, which keeps the bar from being torn. With stderr not a terminal (a log file, a pipe) there is no
    bar: it would only leave a blank line there.
    """
    from rich.progress import Progress

    return Progress(*columns, console=err, transient=True, disable=disable or not err.is_terminal,
                    redirect_stdout=sys.stdout.isatty(), redirect_stderr=True)


def path_label(path: str | os.PathLike[str]) -> str:
    """How a file named on the command line is shown and stored: its name with any bytes that are not UTF-8
    (a file name from another system) as U+FFFD, so that JSON, the terminal and the database can take it.

    >>> path_label(os.fsdecode(b"scan-\\xff.jpg")), path_label("scalpé.jpg")
    ('scan-�.jpg', 'scalpé.jpg')
    """
    return os.fsencode(path).decode("utf-8", "replace")


def emit_json(value: Any) -> None:
    """Write one JSON document (one line) to stdout, always valid UTF-8 (a stray surrogate becomes U+FFFD)."""
    text = json.dumps(value, default=_default, ensure_ascii=False, allow_nan=False)
    try:  # a file name's undecodable bytes (surrogate escapes) become one U+FFFD each, as path_label gives
        clean = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # another lone surrogate
        clean = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    sys.stdout.write(clean + "\n")
    sys.stdout.flush()


def read_input_file(path: Path) -> bytes:
    """Read a file the user named (``-`` is standard input), with clear errors for the usual mistakes."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    else:
        if not path.exists():
            raise HairtrackError(f"{path}: no such file")
        if path.is_dir():
            raise HairtrackError(f"{path}: is a folder, not a file")
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise HairtrackError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MB; split it")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise HairtrackError(f"{path}: cannot read it ({exc.strerror})") from exc
    if len(data) > MAX_INPUT_BYTES:
        raise HairtrackError(f"input larger than {MAX_INPUT_BYTES // 2**20} MB; split it")
    return data
