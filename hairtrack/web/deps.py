"""Dependencies declared once: the store seen by the current user, the user, CSRF and form tokens."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from hairtrack.tracking import Store
from hairtrack.web.security import new_token, tokens_match

__all__ = [
    "Owner",
    "run_limited",
    "session_owner",
    "CurrentOwner",
    "OptionalOwner",
    "OwnerStore",
    "StoreDep",
    "csrf_token",
    "check_csrf",
    "CsrfChecked",
    "form_token",
    "use_form_token",
    "release_form_token",
    "flash",
    "new_session",
    "pop_flashes",
    "render",
]


@dataclass(frozen=True, slots=True)
class Owner:
    """Who is asking: the local user (single-user mode) or a signed-in account."""

    id: int | None
    email: str | None

    @property
    def local(self) -> bool:
        return self.id is None


LOCAL = Owner(id=None, email=None)
T = TypeVar("T")

# Photo analyses running at once: each may hold a large decoded image, so a burst of requests queues here
# instead of exhausting memory; two keep both cores of a laptop busy. A thread semaphore, so that it does
# not depend on which event loop serves the request.
_ANALYSIS_SLOTS = threading.BoundedSemaphore(2)


async def run_limited(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run CPU-heavy photo work in the thread pool, at most two at a time."""

    def limited() -> T:
        with _ANALYSIS_SLOTS:
            return func(*args, **kwargs)

    return await run_in_threadpool(limited)


class NotSignedIn(HTTPException):
    pass


def get_store(request: Request) -> Store:
    return request.app.state.store


StoreDep = Annotated[Store, Depends(get_store)]


def session_owner(request: Request, store: Store) -> Owner | None:
    """The local owner, the signed-in account, or None (multi-user mode, signed out or expired)."""
    settings = request.app.state.settings
    if not settings.multi_user:
        return LOCAL
    uid, issued = request.session.get("uid"), request.session.get("iat", 0)
    if not isinstance(uid, int) or time.time() - float(issued) > settings.session_max_age_s:
        return None
    user = store.user(uid)
    if user is None or store.session_epoch(uid) != request.session.get("epoch", 0):
        # The account was deleted, or the user signed out since this cookie was issued.
        request.session.clear()
        return None
    return Owner(id=user.id, email=user.email)


def optional_owner(request: Request, store: StoreDep) -> Owner | None:
    return session_owner(request, store)


def current_owner(request: Request, store: StoreDep) -> Owner:
    owner = session_owner(request, store)
    if owner is None:
        if request.url.path.startswith("/api/"):
            raise HTTPException(401, "sign in first")
        target = quote(request.url.path)
        raise HTTPException(303, headers={"Location": f"/signin?next={target}"})
    return owner


OptionalOwner = Annotated[Owner | None, Depends(optional_owner)]
CurrentOwner = Annotated[Owner, Depends(current_owner)]


def owner_store(store: StoreDep, owner: CurrentOwner) -> Store:
    """The store as this owner sees it: another owner's profile, scan or image simply does not exist."""
    return store.as_owner(owner.id)


OwnerStore = Annotated[Store, Depends(owner_store)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_token()
    return token


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token (form field or X-CSRF-Token header)."""
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = (await request.form()).get("csrf_token")  # type: ignore[assignment]
    if not tokens_match(request.session.get("csrf"), given if isinstance(given, str) else None):
        raise HTTPException(
            403, "This form has expired or did not come from hairtrack (missing or wrong CSRF token). "
            "Nothing was saved: reload the page and try again."
        )


CsrfChecked = Depends(check_csrf)


def form_token(request: Request) -> str:
    """A one-time token for a form that saves something: a second submit of the same form is refused."""
    return new_token()[:16]


async def use_form_token(request: Request) -> None:
    given = (await request.form()).get("form_token")
    if not isinstance(given, str) or not given:
        return  # forms without one (sign-in, sign-out) may repeat harmlessly
    used: list[str] = request.session.get("used_forms", [])
    if given in used:
        raise HTTPException(409, "This form was already submitted; it was saved once, not twice.")
    request.session["used_forms"] = (used + [given])[-50:]
    request.state.form_token = given  # released again if the request fails (release_form_token)


def release_form_token(request: Request) -> None:
    """A request that failed saved nothing: its form may be corrected and sent again."""
    given = getattr(request.state, "form_token", None)
    if given and "session" in request.scope:
        request.session["used_forms"] = [t for t in request.session.get("used_forms", []) if t != given]


def new_session(request: Request, user_id: int) -> None:
    """Start a fresh session for a signed-in user (a new CSRF token too: no session fixation)."""
    epoch = request.app.state.store.session_epoch(user_id) or 0
    request.session.clear()
    request.session.update({"uid": user_id, "iat": time.time(), "csrf": new_token(), "epoch": epoch})


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session["flash"] = request.session.get("flash", []) + [[kind, message]]


def pop_flashes(request: Request) -> list[list[str]]:
    return request.session.pop("flash", [])


def render(request: Request, template: str, context: dict[str, object] | None = None, status_code: int = 200):  # type: ignore[no-untyped-def]
    """A page with the common context (owner, CSRF token, one-time form token, messages)."""
    store = request.app.state.store
    base = {
        "owner": session_owner(request, store),
        "csrf_token": csrf_token(request),
        "form_token": form_token(request),
        "flashes": pop_flashes(request),
    }
    return request.app.state.templates.TemplateResponse(request, template, {**base, **(context or {})}, status_code=status_code)
