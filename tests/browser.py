"""Real-browser tests: Debian's headless Chromium driven by Selenium through Debian's ChromeDriver.

The `browser` fixture (tests/conftest.py) gives a WebDriver from `chromium()`: a fresh profile in a temporary
folder, a 1280x1024 viewport, closed (and any process it left killed by id) after the test. What the tests then
ask of a page:
  - `print_to_pdf(driver)`: the page printed by WebDriver's print command on US Letter, the bytes of the PDF,
    with `pdf_page_count(pdf)`, `pdf_text(pdf)` and `pdf_page_texts(pdf)` (pypdf) to read it;
  - `accessibility_violations(driver)`: axe-core run in the page, WCAG 2 A/AA and the heading rules;
  - `screenshot(driver, path)`: a PNG of the viewport;
  - `load_html(driver, html, folder)`: HTML the browser cannot navigate to (a route that wants a bearer token)
    fetched by the test's HTTP client and opened from a file.

Chromium and ChromeDriver are Debian's (`apt-get install chromium chromium-driver`, which .ci/run does): both
paths are given to Selenium, so Selenium Manager never runs or downloads anything. axe-core comes from the npm
registry at the version tests/axe/package.json pins (.ci/run installs it into tests/axe/node_modules). Where
either is missing a test skips with the reason, but fails when the environment variable CI is set, so CI cannot
pass without running the browser tests (as tests/postgres_server.py does for PostgreSQL).
"""
from __future__ import annotations

import io
import os
import signal
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
MISSING = "Chromium or ChromeDriver not found (Debian packages chromium and chromium-driver)"
#: as root (CI) Chromium runs only without its sandbox; the network is closed, so nothing in the background may
#: try it (without these, connections are refused many at a time and each start waits on lookups)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--force-device-scale-factor=1", "--lang=en-US")
#: the viewport (innerWidth x innerHeight) every test's page is laid out in, and the screenshot's size
WINDOW = (1280, 1024)
TIMEOUT = 30  # seconds for a page load, a script (axe) or a command

#: US Letter, in centimetres (WebDriver's print command takes centimetres): the users are US billing teams
LETTER = (21.59, 27.94)
#: 0.75 in above and below, room for a running header and a page footer (CSS @page margin boxes print there);
#: 0.5 in at the sides
MARGINS = {"top": 1.905, "bottom": 1.905, "left": 1.27, "right": 1.27}

AXE_FOLDER = Path(__file__).resolve().parent / "axe"
AXE_JS = AXE_FOLDER / "node_modules" / "axe-core" / "axe.min.js"
AXE_MISSING = (f"axe-core not found at {AXE_JS} (npm install --prefix tests/axe --no-package-lock, "
               "as .ci/run does)")
#: the axe-core tags run by default: WCAG 2.0, 2.1 and 2.2 at levels A and AA (labels, contrast, names, ...)
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")
#: and axe's heading rules, which it files as best practice rather than under a WCAG tag
HEADING_RULES = ("page-has-heading-one", "heading-order", "empty-heading")


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        return MISSING
    return None


def _require(missing: str | None, install: str) -> None:
    if missing is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{missing}: CI must run the browser tests; {install}", pytrace=False)
    pytest.skip(missing)


def require_chromium() -> None:
    """Skips the test (with the reason shown) where Chromium or ChromeDriver is missing, but fails it when the
    environment variable CI is set."""
    _require(chromium_missing(), "install them (apt-get install -y --no-install-recommends chromium chromium-driver)")


def require_axe() -> Path:
    """axe.min.js, for a test that checks accessibility: skipped where it is missing, failed for that in CI."""
    _require(None if AXE_JS.is_file() else AXE_MISSING, "run .ci/run, which installs it")
    return AXE_JS


def _kill_leftovers(profile: Path) -> None:
    """Kills, by id, any process still running with this profile (a Chromium whose driver died or would not quit)."""
    marker = f"--user-data-dir={profile}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with suppress(OSError):
            if marker in (proc / "cmdline").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGKILL)


@contextmanager
def chromium(window: tuple[int, int] = WINDOW) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile in a temporary folder and a `window` viewport, driven through
    /usr/bin/chromedriver; quit, and its folder removed, when the block ends."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="policyengine-chromium-", ignore_cleanup_errors=True) as folder:
        profile = Path(folder) / "profile"
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}"):
            options.add_argument(flag)
        service = Service(executable_path=str(CHROMEDRIVER), log_output=str(Path(folder) / "chromedriver.log"))
        try:
            driver = webdriver.Chrome(service=service, options=options)
        except BaseException:
            _kill_leftovers(profile)
            raise
        try:
            driver.set_page_load_timeout(TIMEOUT)
            driver.set_script_timeout(TIMEOUT)
            _fit_viewport(driver, window)
            yield driver
        finally:
            try:
                driver.quit()
            finally:
                _kill_leftovers(profile)


def _fit_viewport(driver: WebDriver, window: tuple[int, int]) -> None:
    """Grows the window by what headless Chromium keeps for its (invisible) frame, so the page gets `window`."""
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    width, height = window[0] + window[0] - inner[0], window[1] + window[1] - inner[1]
    if (width, height) != window:
        driver.set_window_size(width, height)


def load_html(driver: WebDriver, html: str, folder: Path, name: str = "page.html") -> Path:
    """Opens `html` (as served, say, to a bearer token the browser cannot send) from a file written in `folder`;
    links and sources relative to it will not load, nor will anything from the network."""
    page = folder / name
    page.write_text(html, encoding="utf-8")
    driver.get(page.as_uri())
    return page


def print_to_pdf(driver: WebDriver, background: bool = False) -> bytes:
    """The page as WebDriver's print command prints it: US Letter, portrait, MARGINS, at 100%. Backgrounds are
    off, as in a browser's print dialog by default, unless `background` (or the page's print-color-adjust)."""
    import base64

    from selenium.webdriver.common.print_page_options import PrintOptions

    options = PrintOptions()
    options.orientation = "portrait"
    options.page_width, options.page_height = LETTER
    options.margin_top, options.margin_bottom = MARGINS["top"], MARGINS["bottom"]
    options.margin_left, options.margin_right = MARGINS["left"], MARGINS["right"]
    options.background = background
    options.shrink_to_fit = False
    return base64.b64decode(driver.print_page(options))


def _pdf(pdf: bytes) -> Any:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(pdf))


def pdf_page_count(pdf: bytes) -> int:
    return len(_pdf(pdf).pages)


def pdf_page_texts(pdf: bytes) -> list[str]:
    """Each page's text, to check that a running header's words are on every page."""
    return [page.extract_text() or "" for page in _pdf(pdf).pages]


def pdf_text(pdf: bytes) -> str:
    """The text of the whole PDF, pages joined by form feeds."""
    return "\f".join(pdf_page_texts(pdf))


def accessibility_violations(driver: WebDriver, rules: Sequence[str] | None = None) -> list[dict]:
    """axe-core's violations on the page as loaded: by default the rules tagged WCAG 2.0/2.1/2.2 A and AA
    (labels, contrast, names, language, ...) and HEADING_RULES; only the rules with these ids, if `rules` is
    given. Each is axe's result: id, impact, help, helpUrl, and nodes (target, html, failureSummary). Results
    axe could not decide ("incomplete", e.g. contrast over an image) are not violations and are left out."""
    source = require_axe().read_text(encoding="utf-8")
    if rules is None:
        options: dict = {"runOnly": {"type": "tag", "values": list(WCAG_TAGS)},
                         "rules": {rule: {"enabled": True} for rule in HEADING_RULES}}
    else:
        options = {"runOnly": {"type": "rule", "values": list(rules)}}
    options["resultTypes"] = ["violations"]
    driver.execute_script(source)  # axe sets window.axe; WebDriver's scripts are not held to the page's CSP
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "window.axe.run(document, arguments[0]).then(r => done({violations: r.violations}),"
        " e => done({error: String(e && e.stack || e)}));", options)
    if "error" in result:
        raise RuntimeError(f"axe-core failed in the page: {result['error']}")
    return result["violations"]


def describe_violations(violations: list[dict]) -> str:
    """One line a violation and one a node it names: for an assertion's message or a report."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation.get('impact')}): {violation['help']} "
                     f"[{len(violation['nodes'])} element(s)]")
        lines.extend(f"    {' '.join(map(str, node['target']))}: {node['html'][:120]}" for node in violation["nodes"])
    return "\n".join(lines)


def screenshot(driver: WebDriver, path: Path) -> Path:
    """A PNG of the viewport (WINDOW, unless the driver was given another) written to `path`."""
    path = Path(path)
    path.write_bytes(driver.get_screenshot_as_png())
    return path
