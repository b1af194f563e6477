"""report.html in a real headless browser (Debian's Chromium, driven by Playwright): the
3-D views of the states draw offline, and the structure files they show sit beside the page."""

import shutil
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# the flags a sandboxed, offline machine needs; WebGL falls back to SwiftShader without a GPU
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]  # fmt: skip

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(.ci/run installs it: apt-get install chromium)")  # fmt: skip


@pytest.fixture(scope="module")
def report(test_config_run) -> Path:
    return test_config_run / "results" / "report.html"


def colours_in(png_bytes: bytes) -> int:
    """How many distinct colours a screenshot holds (a blank canvas: one or two)."""
    import io

    from matplotlib import image

    pixels = image.imread(io.BytesIO(png_bytes), format="png")
    flat = np.round(pixels[..., :3] * 255).astype(np.int64).reshape(-1, 3)
    return len(np.unique(flat[:, 0] * 65536 + flat[:, 1] * 256 + flat[:, 2]))


def test_the_report_draws_its_3d_views_offline(report, tmp_path):
    from playwright.sync_api import sync_playwright

    page_text = report.read_text()
    assert "$3Dmol" in page_text, "the 3Dmol.js library is not embedded: run scripts/setup.sh"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS,
                                             headless=True)  # fmt: skip
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_selector(".view3d[data-drawn='1']", timeout=60_000)
        views = page.locator(".view3d")
        assert views.count() >= 2  # every model: its states, and the folded structure
        first = views.first
        first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        shot = first.screenshot(path=str(tmp_path / "view.png"))
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        drawn = page.locator(".view3d[data-drawn='1']").count()
        browser.close()
    assert not errors, errors
    assert drawn == views_count_in(page_text)
    # nothing fetched from the network: the page and its data URIs only
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requests), requests
    # a drawn molecule: many shades, not a blank canvas
    assert colours_in(shot) > 20, "the 3-D view drew nothing"


def views_count_in(page_text: str) -> int:
    return page_text.count("class='view3d'")


def test_the_structures_the_report_links_sit_beside_it(report):
    import re

    links = re.findall(r"<a href='([^']+)' download>", report.read_text())
    assert links, "the report links no structure file"
    for relative in links:
        path = report.parent / relative
        assert path.is_file(), relative
        if path.suffix == ".pdb":  # models, or a remark that says why there are none
            assert any(line.startswith(("ATOM", "REMARK")) for line in path.read_text().splitlines())
