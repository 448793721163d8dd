"""hairtrack: measure scalp hair density from photos and judge whether a treatment works."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hairtrack")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
