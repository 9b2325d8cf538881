"""Headless Chromium through selenium for the flame graph tests (Debian ``chromium`` and
``chromium-driver``; ``.ci/run`` installs them). Missing pieces go to the perf gate: a skip
locally, a failure where JITPROF_REQUIRE_PERF is set. No network: the browser starts with
a fresh profile directory and everything that would phone home turned off."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import skip_or_fail

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--force-device-scale-factor=1")


def _find(*names: str) -> str | None:
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


@contextmanager
def chromium(width: int = 1300, height: int = 900) -> Iterator[Any]:
    """A selenium Chrome driver on Debian's chromium, console messages logged."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        skip_or_fail("selenium is not installed (pip install -e '.[test]')")
        raise
    binary = _find("chromium", "chromium-browser")
    driver_path = _find("chromedriver")
    if binary is None or driver_path is None:
        skip_or_fail("missing chromium / chromedriver (Debian: apt-get install chromium "
                     "chromium-driver)")
        raise AssertionError("unreachable")
    profile_dir = tempfile.mkdtemp(prefix="jitprof-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = binary
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile_dir}")
    opts.add_argument(f"--window-size={width},{height}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=opts, service=Service(driver_path))
    except Exception as e:  # noqa: BLE001 - any start-up failure is the environment's
        shutil.rmtree(profile_dir, ignore_errors=True)
        skip_or_fail(f"chromium did not start: {e}")
        raise
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile_dir, ignore_errors=True)


def console_errors(driver: Any) -> list[str]:
    """Console messages of level SEVERE (errors, uncaught exceptions, failed loads)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def open_file(driver: Any, path: Path) -> None:
    driver.get(path.resolve().as_uri())


def screenshot(driver: Any, path: Path) -> Path:
    """Save a PNG of the whole page (the window resized to the document) and say where."""
    w = driver.execute_script("return Math.ceil(document.documentElement.scrollWidth || "
                              "document.documentElement.getBoundingClientRect().width)")
    h = driver.execute_script("return Math.ceil(document.documentElement.scrollHeight || "
                              "document.documentElement.getBoundingClientRect().height)")
    driver.set_window_size(max(int(w) + 20, 800), min(max(int(h) + 140, 600), 4000))
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path
