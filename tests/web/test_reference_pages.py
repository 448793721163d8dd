"""The provider check and the treatment reference on the web."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import tokens


def test_provider_check_and_reference_on_the_web(local_client: TestClient) -> None:
    page = local_client.get("/providers")
    assert page.status_code == 200
    result = local_client.post("/providers", data={"name": "Spa", "guarantees_results": "yes", "price_amount": "7500",
                                                   "price_currency": "EUR", "save": "1", **tokens(page.text)})
    codes = re.findall(r"<strong>([a-z_]+)</strong>", result.text)
    assert "guaranteed_results" in codes and "extreme_pricing" in codes and "Saved Spa" in result.text
    bad = local_client.post("/providers", data={"name": "X", "size_d10": "200", "size_d90": "90", **tokens(local_client.get("/providers").text)})
    assert bad.status_code == 400 and "must not exceed d90" in bad.text
    info = local_client.get("/info")
    assert info.status_code == 200 and 'id="prp-vs-ev"' in info.text and 'id="info-finasteride"' in info.text
    api = local_client.post("/api/provider-check", json={"name": "Y", "guarantees_results": True}).json()
    assert "guaranteed_results" in [f["code"] for f in api["flags"]]
    assert local_client.post("/api/provider-check", json={"name": "Y", "size_distribution_nm": {"d10": -1}}).status_code == 400
