"""Reliability tests (issue 6): the figures each test reports go into the terminal summary."""

from __future__ import annotations

import json

import reliability_support as rs


def pytest_terminal_summary(terminalreporter):
    if not rs.FIGURES:
        return
    mode = "full" if rs.FULL else "reduced (OFFSTATE_RELIABILITY=full or `make reliability` for the full run)"
    terminalreporter.section(f"reliability figures, {mode}")
    for title, figures in rs.FIGURES:
        terminalreporter.write_line(f"{title}: {json.dumps(figures, sort_keys=True)}")
