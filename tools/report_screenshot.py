"""Make docs/report-seed.png: the seed case's HTML report in headless Debian Chromium.

Usage: PYTHONPATH=src python tools/report_screenshot.py [OUT.png]
Needs selenium, /usr/bin/chromium and /usr/bin/chromedriver (Debian chromium-driver).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from abiscope.checks import CheckConfig, run_checks
from abiscope.demo import seed_dir
from abiscope.frontend import ParseOptions, parse
from abiscope.report.html import render_html
from abiscope.targets import resolve

HEADERS = ("dm_op_v3.h", "dm_op.h", "privcmd_dm_op.h")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report-seed.png").resolve()
    model = parse([str(seed_dir() / h) for h in HEADERS], resolve(["default"]).targets,
                  ParseOptions(system_dirs=False), jobs=1)
    records = list(model.records)
    html = render_html(model, records, run_checks(model, records, CheckConfig()),
                       title="abiscope report: the dm_op seed case")
    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--window-size=1100,1250",
                "--hide-scrollbars"):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            page = Path(tmp) / "seed.html"
            page.write_text(html, encoding="utf-8")
            driver.get(page.as_uri() + "#struct-privcmd_dm_op")
            driver.execute_script("window.scrollBy(0, -70)")
            driver.save_screenshot(str(out))
    finally:
        driver.quit()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
