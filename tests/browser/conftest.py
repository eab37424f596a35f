"""The inspector page in a real headless Chromium (Debian's chromium and chromium-driver), driven by
Selenium, against a real awsim binary; boto3 makes the calls the page shows.

Without a Chromium and its driver the tests are skipped with a message saying what to install
(./scripts/test installs them where it runs as root)."""

import importlib.util
import os
import pathlib
import shutil
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# The Python suite's awsim process wrapper.
_spec = importlib.util.spec_from_file_location("awsim_python_support", ROOT / "tests" / "python" / "conftest.py")
_support = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_support)
Awsim = _support.Awsim

# This machine may have no network: without these, Chromium's background connections (updates,
# sync, QUIC probes) fail noisily or stall its start.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1800,1000",
]


def _chromium():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return browser, driver


def _skip_reason():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -r tests/browser/requirements.txt"
    browser, driver = _chromium()
    if not browser or not driver:
        return (
            "no Chromium here (chromium and chromedriver not on PATH): install Debian's chromium and "
            "chromium-driver (apt-get install chromium chromium-driver) to run the inspector's browser tests"
        )
    return None


def start_chromium(*extra):
    """A headless Chromium with a new, empty profile; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in [*CHROMIUM_FLAGS, *extra]:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="awsim-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    chrome.implicitly_wait(0)
    chrome._awsim_profile = profile
    return chrome


def quit_chromium(chrome):
    chrome.quit()
    shutil.rmtree(chrome._awsim_profile, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium_available():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def chrome(chromium_available):
    chrome = start_chromium()
    yield chrome
    quit_chromium(chrome)


@pytest.fixture(scope="module")
def awsim():
    server = Awsim()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where the run's screenshots go (a temp dir; printed at the end of the session)."""
    path = tmp_path_factory.mktemp("inspector-screenshots")
    yield path
    print(f"\ninspector screenshots: {path}")


@pytest.fixture(scope="session")
def docs_screenshot():
    """docs/inspector.png, README's picture: rewritten only with UPDATE_SCREENSHOT=1."""
    if os.environ.get("UPDATE_SCREENSHOT") == "1":
        return ROOT / "docs" / "inspector.png"
    return None
