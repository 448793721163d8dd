"""The web app: analyze without an account, per-profile dashboards, reports and a JSON API."""

from hairtrack.web.app import WebSettings, create_app

__all__ = ["WebSettings", "create_app"]
