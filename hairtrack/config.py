"""Settings from the environment (``HAIRTRACK_*``) and the command line.

The database defaults to SQLite in the user's data folder; images live beside it under ``images/``.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "database_url"]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("hairtrack", appauthor=False))


class Settings(BaseSettings):
    """Where hairtrack keeps its data.

    Attributes
    ----------
    db : str or None
        A SQLAlchemy URL (``postgresql+psycopg://...``) or a plain file path meaning SQLite there.
        ``None`` means ``<data_dir>/hairtrack.sqlite3``.
    data_dir : Path
        The folder for the default database and the image store.
    busy_timeout_s : float
        How long a writer waits for another process's write to finish before giving up (SQLite).
    """

    model_config = SettingsConfigDict(env_prefix="HAIRTRACK_", extra="ignore")

    db: str | None = None
    data_dir: Path = Field(default_factory=_default_data_dir)
    busy_timeout_s: float = 10.0

    @field_validator("busy_timeout_s")
    @classmethod
    def _positive(cls, value: float) -> float:
        if not value > 0:
            raise ValueError(f"busy_timeout_s must be > 0, got {value}")
        return value

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the database these settings name."""
        return database_url(self.db, self.data_dir)

    @property
    def image_dir(self) -> Path:
        """The content-addressed image store."""
        return self.data_dir / "images"


def database_url(db: str | None, data_dir: Path) -> str:
    """Turn ``--db`` / ``HAIRTRACK_DB`` into a SQLAlchemy URL.

    Examples
    --------
    >>> database_url("/tmp/x.db", Path("/d"))
    'sqlite:////tmp/x.db'
    >>> database_url(None, Path("/d"))
    'sqlite:////d/hairtrack.sqlite3'
    >>> database_url("postgresql+psycopg://u@localhost/h", Path("/d"))
    'postgresql+psycopg://u@localhost/h'
    """
    if db is None or db == "":
        return f"sqlite:///{(data_dir / 'hairtrack.sqlite3').resolve()}"
    if "://" in db:
        if db.startswith("postgresql://") or db.startswith("postgres://"):
            # Plain postgresql:// would pick psycopg2, which we do not depend on.
            return "postgresql+psycopg://" + db.split("://", 1)[1]
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"
