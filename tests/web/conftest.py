"""A web app per test, on its own database and data folder, single- or multi-user."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from hairtrack.synth import render_scalp
from hairtrack.tracking import Store
from hairtrack.web import WebSettings, create_app


def make_client(tmp_path: Path, store: Store, *, multi_user: bool, **settings: object) -> TestClient:
    app = create_app(WebSettings(data_dir=tmp_path / "data", multi_user=multi_user, **settings), store=store)
    return TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'web.sqlite3'}", image_dir=tmp_path / "data" / "images") as store:
        yield store


@pytest.fixture
def local_client(tmp_path: Path, sqlite_store: Store) -> Iterator[TestClient]:
    with make_client(tmp_path, sqlite_store, multi_user=False) as client:
        yield client


@pytest.fixture
def clinic(tmp_path: Path, store: Store) -> Callable[..., TestClient]:
    """Multi-user clients sharing one server and database (SQLite and PostgreSQL)."""
    app = create_app(WebSettings(data_dir=tmp_path / "data", multi_user=True), store=store)
    clients: list[TestClient] = []

    def new_client() -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        client.__enter__()
        clients.append(client)
        return client

    yield new_client
    for client in clients:
        client.__exit__(None, None, None)


def tokens(html: str) -> dict[str, str]:
    """The CSRF and one-time form tokens of a page."""
    found = dict(re.findall(r'name="(csrf_token|form_token)" value="([^"]+)"', html))
    assert "csrf_token" in found, "page has no CSRF token"
    return found


def sign_up(client: TestClient, email: str, password: str = "correct horse battery") -> None:
    page = client.get("/signup")
    response = client.post("/signup", data={"email": email, "password": password, **tokens(page.text)}, follow_redirects=False)
    assert response.status_code == 303, response.text


def scalp_jpeg(seed: int = 1, shape: tuple[int, int] = (512, 640)) -> bytes:
    buffer = io.BytesIO()
    scene = render_scalp(seed=seed, shape=shape, px_per_mm=220.0, n_units=8, difficulty="easy")  # 8 units: never an empty photo
    Image.fromarray(np.asarray(scene.image)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()
