"""``hairtrack serve``: the web app."""

from __future__ import annotations

from typing import Annotated

import typer

from hairtrack.cli._common import DataDirOpt, DbOpt, err, fail

__all__ = ["serve"]


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on. Single-user mode only allows this machine (127.0.0.1).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    multi_user: Annotated[bool, typer.Option("--multi-user", help="Clinic server: accounts with passwords; each user sees only their own profiles.")] = False,
    https: Annotated[bool, typer.Option("--https", help="Behind a TLS proxy: secure cookies and HSTS.")] = False,
    max_upload_mb: Annotated[float, typer.Option(help="Largest upload accepted, in MB.", min=0.1)] = 25.0,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Start the web app (http://127.0.0.1:8000 by default). Stop it with Ctrl-C."""
    import uvicorn

    from hairtrack.web import WebSettings, create_app
    from hairtrack.web.app import is_loopback

    if not multi_user and not is_loopback(host):
        fail(f"single-user mode has no password, so it only listens on this machine; {host!r} would expose "
             "your photos to the network. Use --multi-user for a shared server.")
    overrides: dict[str, object] = {"host": host, "port": port, "multi_user": multi_user, "https": https, "max_upload_mb": max_upload_mb}
    if db is not None:
        overrides["db"] = db
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    settings = WebSettings(**overrides)
    app = create_app(settings)
    err.print(f"hairtrack: serving on http://{host}:{port} ({'multi-user' if multi_user else 'single-user, this machine only'}); Ctrl-C stops it", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=https)
