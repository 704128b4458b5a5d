"""``abiscope report``: the HTML is valid, self-contained, and reads back right in Chromium.

Two reports are rendered once per session: the seed case (the bundled dm_op headers, default
targets) and a slice of Linux UAPI (perf_event, bpf, ethtool, if_link; i386 and x86_64).
Each is parsed with html5lib in strict mode (any HTML parse error fails) and checked for
self-containment, then opened in headless Debian Chromium through selenium and Debian's
chromedriver: a screenshot, every record present in the DOM, every byte-map row as wide as
the record is on that target (and, for the seed case, that size is GCC's from DWARF), every
member inside its row, no console errors, and the search box filtering records.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from abiscope import frontend
from abiscope.checks import CheckConfig, run_checks
from abiscope.model import Model
from abiscope.report.html import render_html
from abiscope.targets import TARGETS
from conftest import SEED_DIR, SEED_HEADERS, skip_or_fail
from differential import gcc_layouts, probes_for
from oracle.gcc_dwarf import find_gcc, system_include_dirs

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
UAPI_SLICE = ("linux/perf_event.h", "linux/bpf.h", "linux/ethtool.h", "linux/if_link.h")


@dataclass(frozen=True)
class Rendered:
    name: str
    model: Model
    path: Path
    html: str


def _render(name: str, model: Model, tmp: Path) -> Rendered:
    records = list(model.records)
    findings = run_checks(model, records, CheckConfig())
    html = render_html(model, records, findings, title=f"abiscope report: {name}")
    path = tmp / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    return Rendered(name, model, path, html)


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    targets = [TARGETS[t] for t in ("i386", "x86_64", "x32", "arm", "aarch64")]
    model = frontend.parse([str(SEED_DIR / h) for h in SEED_HEADERS], targets,
                           frontend.ParseOptions(system_dirs=False), jobs=1)
    assert not model.failures
    return _render("seed", model, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def uapi(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    dirs = system_include_dirs("x86_64")
    if not os.path.isfile("/usr/include/linux/perf_event.h"):
        skip_or_fail("Linux UAPI headers missing (apt-get install linux-libc-dev)")
    sysroots = tuple(("x86_64", d) for d in dirs) + tuple(
        ("i386", d) for d in system_include_dirs("i386"))
    model = frontend.parse([f"/usr/include/{h}" for h in UAPI_SLICE],
                           [TARGETS["i386"], TARGETS["x86_64"]],
                           frontend.ParseOptions(sysroots=sysroots), jobs=1)
    assert not model.failures, model.failures
    return _render("uapi", model, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def xen(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Xen's dm_op.h from Debian's libxen-dev: a 20-arm union, typedef'd guest handles."""
    header = "/usr/include/xen/hvm/dm_op.h"
    if not os.path.isfile(header):
        skip_or_fail("Xen public headers missing (apt-get install libxen-dev)")
    model = frontend.parse([header], [TARGETS[t] for t in ("i386", "x86_64", "arm",
                                                             "aarch64")],
                           frontend.ParseOptions(defines=("__XEN_TOOLS__",),
                                                 force_includes=("stdint.h",)), jobs=1)
    assert not model.failures, model.failures
    return _render("xen", model, tmp_path_factory.mktemp("report"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        skip_or_fail("selenium not installed (pip install selenium)")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        skip_or_fail("Debian chromium / chromium-driver not installed")
    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--window-size=1200,1600"):
        options.add_argument(arg)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # an explicit Service path: selenium must not go looking for (or download) a driver
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


# ------------------------------------------------------------------------- static checks


@pytest.mark.parametrize("which", ["seed", "uapi"])
def test_html_is_valid_and_self_contained(which: str, request: pytest.FixtureRequest) -> None:
    html5lib = pytest.importorskip("html5lib")
    rendered: Rendered = request.getfixturevalue(which)
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(rendered.html)  # raises on the first parse error
    assert not parser.errors
    # no network: no external script, stylesheet, image or font
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", rendered.html)
    assert "http://" not in rendered.html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in rendered.html
    assert rendered.html.count("<script>") == 1
    ids = re.findall(r'\sid="([^"]+)"', rendered.html)
    assert len(ids) == len(set(ids)), "duplicate ids"


def test_compat_section_plugs_in(seed: Rendered) -> None:
    """The compat verdicts render from anything shaped like abiscope.compat's CompatReport."""

    @dataclass(frozen=True)
    class Delta:
        member: str
        native: tuple[int, int] | None
        compat: tuple[int, int] | None
        cause: str

    @dataclass(frozen=True)
    class Verdict:
        name: str
        verdict: str
        reasons: tuple[Delta, ...]
        notes: tuple[str, ...]

    @dataclass(frozen=True)
    class Report:
        native: str
        compat: str
        records: tuple[Verdict, ...]

    report = Report("x86_64", "i386", (
        Verdict("struct xen_dm_op_buf", "translate",
                (Delta("size", (64, 64), (32, 32), "xen_ulong_t is 4 bytes on i386"),), ()),
        Verdict("struct xen_dm_op_buf_v3", "identical", (), ("alignment only",))))
    html = render_html(seed.model, list(seed.model.records), [], compat=report)
    assert '<h2 id="compat">' in html
    assert 'href="#struct-xen_dm_op_buf"' in html and "xen_ulong_t is 4 bytes" in html
    assert "1 identical, 1 translate" in html


# ----------------------------------------------------------------------------- in Chromium


def _open(driver: Any, rendered: Rendered, shots: Path) -> dict[str, Any]:
    driver.get_log("browser")  # drop anything from before
    driver.get(rendered.path.as_uri())
    shot = shots / f"{rendered.name}.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    dom: dict[str, Any] = driver.execute_script("""
      var out = {records: [], rows: [], escaped: 0, untitled: 0, no_table: [],
                 thinnest: {}};
      document.querySelectorAll('section.rec').forEach(function (s) {
        out.records.push(s.getAttribute('data-name'));
        if (!s.querySelector('svg.bytemap + details.members, div.scroll + details.members')
            || !s.querySelector('table.members tbody tr')) {
          out.no_table.push(s.getAttribute('data-name'));
        }
        s.querySelectorAll('svg.bytemap rect').forEach(function (r) {
          if (!r.querySelector('title') || !r.querySelector('title').textContent) {
            out.untitled++;
          }
        });
        var thin = 1e9;
        s.querySelectorAll('svg.bytemap rect.m').forEach(function (r) {
          thin = Math.min(thin, r.getBBox().height);
        });
        out.thinnest[s.getAttribute('data-name')] = thin;
        var svg = s.querySelector('svg.bytemap');
        var cell = parseFloat(svg.getAttribute('data-cell'));
        svg.querySelectorAll('g.row').forEach(function (g) {
          var frame = g.querySelector('rect.frame').getBBox();
          g.querySelectorAll('rect.m').forEach(function (m) {
            var b = m.getBBox();
            if (b.x < -0.01 || b.x + b.width > frame.width + 1.01) { out.escaped++; }
          });
          out.rows.push([s.getAttribute('data-name'), g.getAttribute('data-target'),
                         parseInt(g.getAttribute('data-size')), frame.width / cell]);
        });
      });
      return out;""")
    logs = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "WARNING")]
    assert not logs, logs
    # every record has a member table under its byte map; every segment has a tooltip
    assert dom["no_table"] == [], dom["no_table"]
    assert dom["untitled"] == 0
    return dom


def test_seed_report_in_chromium(seed: Rendered, browser: Any, tmp_path: Path) -> None:
    dom = _open(browser, seed, tmp_path)
    model = seed.model
    assert sorted(dom["records"]) == sorted(r.name for r in model.records)
    rows = {(name, target): (size, width) for name, target, size, width in dom["rows"]}
    expected = {(r.name, t): lay.size for r in model.records for t, lay in r.layouts.items()}
    assert set(rows) == set(expected)
    for key, (size, width) in rows.items():
        assert size == expected[key], key
        assert abs(width - size) < 0.01, (key, width)
    assert dom["escaped"] == 0
    # the sizes drawn are GCC's
    for target in ("i386", "x86_64"):
        if find_gcc(target) is None:
            skip_or_fail(f"no gcc for {target}")
        gcc = gcc_layouts({"seed": "".join(f'#include "{SEED_DIR / h}"\n'
                                           for h in SEED_HEADERS)},
                          target, {"seed": probes_for(model, target)})["seed"]
        assert gcc.ok, gcc.stderr
        for r in model.records:
            assert rows[(r.name, target)][0] == gcc.records[r.name].size, (r.name, target)
    # the search box filters records (and the anchors work)
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "q")
    box.send_keys("privcmd")
    shown = browser.execute_script(
        "return Array.prototype.filter.call(document.querySelectorAll('section.rec'),"
        " function (s) { return !s.hidden; }).map(function (s) {"
        " return s.getAttribute('data-name'); });")
    assert sorted(shown) == ["struct privcmd_dm_op", "struct privcmd_dm_op_buf"]
    assert browser.find_element(By.ID, "shown").text == f"2 of {len(model.records)} records"


def test_uapi_report_in_chromium(uapi: Rendered, browser: Any, tmp_path: Path) -> None:
    dom = _open(browser, uapi, tmp_path)
    model = uapi.model
    assert len(dom["records"]) == len(model.records) >= 100
    assert sorted(dom["records"]) == sorted(r.name for r in model.records)
    expected = {(r.name, t): lay.size for r in model.records for t, lay in r.layouts.items()}
    assert len(dom["rows"]) == len(expected)
    for name, target, size, width in dom["rows"]:
        assert size == expected[(name, target)]
        assert abs(width - size) < 0.01, (name, target, width)
    assert dom["escaped"] == 0


def test_report_command(run_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = run_cli("report", *(str(SEED_DIR / h) for h in SEED_HEADERS), "--target",
                  "i386,x86_64", "-o", str(out))
    assert res.code == 0, res.err
    assert "wrote" in res.err and "5 records on 2 targets" in res.err
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>") and 'id="struct-xen_dm_op_buf"' in text
    res = run_cli("report", str(SEED_DIR / "dm_op.h"), "--native", "x86_64", "-o",
                  str(out))
    assert res.code == 2 and "--native and --compat go together" in res.err
    res = run_cli("report", str(tmp_path / "missing.h"), "-o", str(out))
    assert res.code == 2 and "Traceback" not in res.err


def test_docs_screenshot_is_current() -> None:
    """docs/report-seed.png exists (make it with tools/report_screenshot.py)."""
    png = Path(__file__).resolve().parents[1] / "docs" / "report-seed.png"
    if not png.exists() and shutil.which("chromium") is None:
        skip_or_fail("docs/report-seed.png missing")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_with_real_compat_verdicts(run_cli: Any, tmp_path: Path) -> None:
    """abiscope.compat's own report renders: C translates, A is identical (claim 9)."""
    out = tmp_path / "c.html"
    res = run_cli("report", *(str(SEED_DIR / h) for h in SEED_HEADERS), "--target",
                  "i386,x86_64", "--native", "x86_64", "--compat", "i386", "-o", str(out))
    assert res.code == 0, res.err
    text = out.read_text()
    assert '<h2 id="compat">' in text
    row = re.compile(r"xen_dm_op_buf\b(?!_v3).{0,400}?translate", re.S)
    assert row.search(text), "struct xen_dm_op_buf should need translation"


def test_report_draws_layered_paths(run_cli: Any, tmp_path: Path) -> None:
    """The matrix of claims 7, 8 and 10 drawn: every cell a figure, the passthrough cells
    whose layouts differ in red (ABI015), the translated boundary marked as such."""
    import html5lib

    out = tmp_path / "p.html"
    res = run_cli("report", str(SEED_DIR / "dm_op.h"), str(SEED_DIR / "privcmd_dm_op.h"),
                  "--target", "i386,x86_64", "--layer", "user=i386,x86_64",
                  "--layer", "kernel=i386,x86_64", "--layer", "hypervisor=x86_64",
                  "--translate", "user:kernel", "--path-record",
                  "user:kernel=privcmd_dm_op_buf;kernel:hypervisor=xen_dm_op_buf",
                  "--path-record", "xen_dm_op_buf", "-o", str(out))
    assert res.code == 0, res.err
    text = out.read_text()
    html5lib.HTMLParser(strict=True).parse(text)
    assert '<h2 id="paths">' in text
    assert text.count('<figure class="pathcell"') == 8  # 2 x 2 widths x 2 designs
    assert text.count('class="mismatch"') >= 1 and text.count('class="translated"') >= 1
    res = run_cli("report", str(SEED_DIR / "dm_op.h"), "--target", "x86_64",
                  "--layer", "user=i386", "--layer", "kernel=x86_64", "--path-record",
                  "xen_dm_op_buf", "-o", str(out))
    assert res.code == 2 and "add them to --target" in res.err


def test_check_text_names_each_record_once(seed: Rendered) -> None:
    """Findings of one record that arrive apart (by severity, by rule) print under one
    heading, not one heading per run of them."""
    from rich.console import Console

    from abiscope.report.findings import render_text

    records = list(seed.model.records)
    findings = run_checks(seed.model, records, CheckConfig())
    names = list(dict.fromkeys(f.record for f in findings))
    assert len(names) >= 2 and len(findings) > len(names)
    interleaved = [f for pair in zip(findings, reversed(findings), strict=True)
                   for f in pair][:len(findings)]
    console = Console(record=True, width=200, color_system=None)
    render_text(interleaved, console, fix_preview=False)
    lines = console.export_text().splitlines()
    for name in names:
        assert lines.count(name) == 1, (name, lines)


def test_xen_report_reads_well(xen: Rendered, browser: Any, tmp_path: Path) -> None:
    """Issue 28: struct xen_dm_op's 20-arm union is one labelled segment, not slivers, its
    arms are in the member table; records come as the header defines them, the typedef'd
    __guest_handle_* last; the legend's colours mean only what the legend says."""
    dom = _open(browser, xen, tmp_path)
    names = dom["records"]
    handles = [n for n in names if n.startswith("__guest_handle")]
    assert handles and names[-len(handles):] == handles
    assert names[0].startswith("struct ")
    assert dom["thinnest"]["struct xen_dm_op"] >= 20  # px: a readable bar, not a sliver
    section = xen.html.split('id="struct-xen_dm_op"', 1)[1].split("</section>", 1)[0]
    assert "u (union of 20)" in section and "<code>u.inject_msi</code>" in section
    # records with findings first, each group in the header's order
    model = xen.model
    flagged = {f.record for f in run_checks(model, list(model.records), CheckConfig())}
    structs = [n for n in names if n not in handles]
    order = {r.name: r.order for r in model.records}
    ranks = [(n not in flagged, order[n]) for n in structs]
    assert ranks == sorted(ranks)
    # the member palette uses none of the legend's colours (hole, tail padding, size differs)
    from abiscope.report import html as report_html

    palette = set(re.findall(r"\.m\d+\{fill:(#[0-9a-f]{6})\}", report_html.CSS))
    assert len(palette) == report_html.PALETTE
    legend = set(re.findall(r'(?:fill|stroke)="(#[0-9a-f]{6})"', report_html.DEFS)) | {
        "#b3261e"}
    assert not palette & legend
    assert 'class="m' not in report_html.LEGEND.split("hatch-hole")[1]  # only members'
