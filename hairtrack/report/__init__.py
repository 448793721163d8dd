"""The report a person takes to their dermatologist: HTML and PDF, built from one set of charts."""

from hairtrack.report.report import report_html, report_pdf

__all__ = ["report_html", "report_pdf"]
