"""Sign-up, sign-in and sign-out (multi-user mode only; the single-user app has no accounts)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hairtrack.errors import ConflictError, InputError
from hairtrack.web.deps import CsrfChecked, StoreDep, flash, new_session, render
from hairtrack.web.security import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password

router = APIRouter(tags=["accounts"], include_in_schema=False)

# Verified against when the e-mail is unknown, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = hash_password("not a real password, only for timing")


def _require_multi_user(request: Request) -> None:
    if not request.app.state.settings.multi_user:
        raise HTTPException(404, "This hairtrack runs in single-user mode: there are no accounts. Start it with --multi-user for a clinic server.")


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never an open redirect to another host.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/profiles"
    return target


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, next: str | None = None) -> HTMLResponse:
    _require_multi_user(request)
    return render(request, "signin.html", {"signup": False, "next": _safe_next(next)})


@router.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request) -> HTMLResponse:
    _require_multi_user(request)
    return render(request, "signin.html", {"signup": True, "min_length": MIN_PASSWORD_LENGTH})


@router.post("/signup", dependencies=[CsrfChecked])
def signup(
    request: Request, store: StoreDep, email: Annotated[str, Form()], password: Annotated[str, Form()],
) -> Response:
    _require_multi_user(request)
    error = None
    if len(password) < MIN_PASSWORD_LENGTH:
        error = f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    elif len(password) > 1024:
        error = "That password is too long (1024 characters at most)."
    else:
        try:
            user = store.create_user(email, hash_password(password))
        except InputError as exc:
            error = str(exc)
        except ConflictError:
            error = "An account with this e-mail address exists already: sign in instead."
    if error:
        return render(request, "signin.html", {"signup": True, "error": error, "email": email, "min_length": MIN_PASSWORD_LENGTH}, status_code=400)
    new_session(request, user.id)
    flash(request, "Your account is ready. Add a profile for each person you track.", "ok")
    return RedirectResponse("/profiles", status_code=303)


@router.post("/signin", dependencies=[CsrfChecked])
def signin(
    request: Request, store: StoreDep, email: Annotated[str, Form()], password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/profiles",
) -> Response:
    _require_multi_user(request)
    user = store.user_by_email(email)
    if user is None or not verify_password(user.password_hash, password):
        if user is None:
            verify_password(_DUMMY_HASH, password)
        time.sleep(0.2)  # slows guessing a little; a clinic should also rate-limit at its proxy
        return render(request, "signin.html", {"signup": False, "error": "E-mail or password is wrong.", "email": email, "next": _safe_next(next)}, status_code=400)
    if needs_rehash(user.password_hash):
        store.set_password_hash(user.id, hash_password(password))
    new_session(request, user.id)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/signout", dependencies=[CsrfChecked])
def signout(request: Request, store: StoreDep) -> RedirectResponse:
    uid = request.session.get("uid")
    if isinstance(uid, int):
        store.end_sessions(uid)  # a copied cookie stops working too
    request.session.clear()
    flash(request, "Signed out.", "ok")
    return RedirectResponse("/", status_code=303)
