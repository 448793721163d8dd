"""The FastAPI application: built by :func:`create_app` from settings, never at import time."""

from __future__ import annotations

import ipaddress
import logging
from contextlib import asynccontextmanager
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from hairtrack import __version__
from hairtrack.config import Settings
from hairtrack.errors import ConflictError, DatabaseBusyError, HairtrackError, InputError, NotFoundError
from hairtrack.report.format import FORMATTERS
from hairtrack.tracking import Store
from hairtrack.web.security import BodySizeLimit, SecurityHeaders, load_or_create_secret

__all__ = ["WebSettings", "create_app", "is_loopback"]

HERE = Path(__file__).resolve().parent
log = logging.getLogger("hairtrack.web")


class WebSettings(Settings):
    """Settings of the web app (environment ``HAIRTRACK_*``, or ``hairtrack serve`` options)."""

    host: str = "127.0.0.1"
    port: int = 8000
    multi_user: bool = False
    max_upload_mb: float = Field(default=25.0, gt=0)
    session_max_age_s: int = Field(default=12 * 3600, gt=0)
    secret_key: str | None = None
    https: bool = False  # behind TLS: cookies marked Secure, HSTS sent


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(settings: WebSettings | None = None, *, store: Store | None = None) -> FastAPI:
    """Build the web app.

    Parameters
    ----------
    settings : WebSettings
        Database, data folder, mode and limits.
    store : Store, optional
        An open store to use (tests); otherwise one is opened from ``settings`` at start-up.
    """
    settings = settings or WebSettings()
    own_store = store is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if own_store:
            app.state.store = Store.from_settings(settings)
        yield
        if own_store:
            app.state.store.close()

    app = FastAPI(
        title="hairtrack",
        version=__version__,
        description="Local-first hair density measurement and treatment tracking. "
        "`POST /api/analyze` needs no account; profile APIs need a signed-in user (multi-user mode).",
        lifespan=lifespan,
        docs_url=None,  # served below with vendored assets: no CDN, works offline
        redoc_url=None,
    )
    app.state.settings = settings
    if store is not None:
        app.state.store = store
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(version=__version__, multi_user=settings.multi_user, **FORMATTERS)
    app.state.templates = templates

    from hairtrack.web.routes import analyze, api, assessment, auth, docs, profiles, reference

    app.include_router(analyze.router)
    app.include_router(auth.router)
    app.include_router(profiles.router)
    app.include_router(api.router)
    app.include_router(docs.router)
    app.include_router(reference.router)
    app.include_router(assessment.router)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    secret = settings.secret_key or load_or_create_secret(settings.data_dir / "web-secret-key")
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="hairtrack_session",
        max_age=settings.session_max_age_s,
        same_site="strict" if not settings.multi_user else "lax",
        https_only=settings.https,
    )
    app.add_middleware(BodySizeLimit, max_bytes=int(settings.max_upload_mb * 2**20))
    if not settings.multi_user:
        # The single-user app has no password: only answer requests addressed to this machine by name,
        # so that a web page elsewhere cannot reach it through DNS rebinding.
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "[::1]"])
    app.add_middleware(SecurityHeaders, hsts=settings.https)

    def _wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")

    def _error(request: Request, status: int, message: str) -> Response:
        if status != 409:
            from hairtrack.web.deps import release_form_token

            release_form_token(request)
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )

    @app.exception_handler(HairtrackError)
    async def _hairtrack_error(request: Request, exc: HairtrackError) -> Response:
        status = 400
        if isinstance(exc, NotFoundError):
            status = 404
        elif isinstance(exc, ConflictError):
            status = 409
        elif isinstance(exc, DatabaseBusyError):
            status = 503
        elif not isinstance(exc, InputError):
            status = 500
            log.error("hairtrack error: %s", exc)
        return _error(request, status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307):
            return Response(status_code=exc.status_code, headers=exc.headers)
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address."
        return _error(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', [])[1:]) or 'request'}: {err.get('msg')}" for err in exc.errors()
        )
        return _error(request, 422, f"invalid request: {problems}")

    return app
