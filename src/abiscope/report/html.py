"""A self-contained HTML report: targets overview, per-record SVG byte maps, findings.

One file, no network: CSS and SVG inline, a few lines of inline JavaScript for the search box
only (the report reads fine with scripts off). Per record, one SVG with one row per target,
all rows on one byte scale so that differences line up vertically; a member has the same
colour on every target; holes and tail padding are hatched; bitfields are drawn at bit
precision inside their storage unit; members whose size differs between the targets shown
(pointers, ``long``, …) are outlined and marked. Reads the model and findings only.

Extension points: ``compat`` takes anything shaped like ``abiscope.compat.CompatReport``
(:class:`CompatReportLike`: ``native``, ``compat``, ``records`` of verdicts with
``reasons``/``notes``) and renders the verdict table; ``sections`` takes further
pre-rendered :class:`Section` values (layered paths, …), each placed after the findings with
its own anchor and table-of-contents entry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol

from .. import __version__
from ..checks import Finding
from ..headroom import headroom
from ..model import Member, Model, Record, RecordLayout, byte_position, byte_size
from ..sameness import compare_targets
from .headroom import headroom_line
from .naming import human_names
from .units import shape_cell

LABEL_W = 78  # px: the target-name column of a byte map
MAP_W = 960  # px: the widest row of a byte map, when bytes would be wider than MAX_CELL
MAX_CELL = 24  # px per byte, for small records
MAX_TICKS = 256  # grid lines and ruler numbers per row, however large the record
ROW_H = 26
MIN_LANE_H = 6  # px: the thinnest lane of a member in a union
RULER_H = 14
PALETTE = 12  # member colours, classes m0..m11
UNION_ARMS = 4  # a nested union with more arms is drawn as one labelled segment
OPEN_MEMBERS = 32  # member tables with more rows start folded


@dataclass(frozen=True)
class Section:
    """A pre-rendered part of the report (HTML fragment, already escaped)."""

    id: str
    title: str
    html: str


# ----------------------------------------------------------------- compat (extension point)


class MemberDeltaLike(Protocol):
    @property
    def member(self) -> str: ...
    @property
    def native(self) -> tuple[int, int] | None: ...
    @property
    def compat(self) -> tuple[int, int] | None: ...
    @property
    def cause(self) -> str: ...


class RecordVerdictLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def reasons(self) -> Sequence[MemberDeltaLike]: ...
    @property
    def notes(self) -> Sequence[str]: ...


class CompatReportLike(Protocol):
    """What ``abiscope.compat.compare(model, native, compat)`` returns."""

    @property
    def native(self) -> str: ...
    @property
    def compat(self) -> str: ...
    @property
    def records(self) -> Sequence[RecordVerdictLike]: ...


def _span(pair: tuple[int, int] | None) -> str:
    return "—" if pair is None else shape_cell(pair)


def compat_section(report: CompatReportLike, anchors: dict[str, str]) -> Section:
    """The compat verdicts as a table; translate rows list the members that differ."""
    native, compat = escape(report.native), escape(report.compat)
    counts = {v: sum(1 for r in report.records if r.verdict == v)
              for v in ("identical", "translate")}
    out = [f'<p>native <b>{native}</b>, compat <b>{compat}</b>: '
           f'{counts["identical"]} identical, {counts["translate"]} translate.</p>',
           '<table class="grid"><thead><tr><th>record</th><th>verdict</th><th>member</th>'
           f'<th>{native}</th><th>{compat}</th><th>cause</th></tr></thead><tbody>']
    for r in sorted(report.records, key=lambda r: (r.verdict != "translate", r.name)):
        name = _record_link(r.name, anchors)
        verdict = f'<span class="v-{escape(r.verdict)}">{escape(r.verdict)}</span>'
        notes = "".join(f'<div class="vnote">{escape(n)}</div>' for n in r.notes)
        if not r.reasons:
            out.append(f"<tr><td>{name}</td><td>{verdict}</td><td colspan=4>{notes}</td></tr>")
            continue
        for i, d in enumerate(r.reasons):
            head = f"<td>{name}</td><td>{verdict}</td>" if i == 0 else "<td></td><td></td>"
            out.append(f"<tr>{head}<td><code>{escape(d.member)}</code></td>"
                       f"<td>{_span(d.native)}</td><td>{_span(d.compat)}</td>"
                       f"<td>{escape(d.cause)}{notes if i == 0 else ''}</td></tr>")
    out.append("</tbody></table>")
    return Section("compat", f"Compat verdicts: {report.native} / {report.compat}",
                   "\n".join(out))


# ----------------------------------------------------------------------------- byte maps


def anchor_ids(records: Iterable[Record]) -> dict[str, str]:
    """A unique, stable HTML id per record name (``struct foo`` -> ``struct-foo``)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for r in records:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "-", r.name).strip("-") or "record"
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        out[r.name] = anchor
    return out


def _record_link(name: str, anchors: dict[str, str]) -> str:
    if name in anchors:
        return f'<a href="#{anchors[name]}">{escape(name)}</a>'
    return escape(name)


@dataclass(frozen=True)
class _Leaf:
    path: str
    member: Member
    unit: tuple[int, int] | None  # bitfield storage unit (start, end) bits


def _is_big_union(m: Member) -> bool:
    """A member that is a union of more than UNION_ARMS arms (all at its own offset)."""
    return len(m.members) > UNION_ARMS and all(a.offset_bits == m.offset_bits
                                               for a in m.members)


def _leaves(members: Sequence[Member], prefix: str = "",
            fold: bool = False) -> Iterator[_Leaf]:
    """Members that hold bytes: anonymous and unnamed-record levels are looked into; with
    ``fold``, a nested big union (:func:`_is_big_union`) is one leaf, not its arms."""
    for m in members:
        path = f"{prefix}.{m.name}" if prefix and m.name else (m.name or prefix)
        if fold and _is_big_union(m):
            yield _Leaf(path or "{anonymous}", m, None)
        elif m.members:
            yield from _leaves(m.members, path, fold)
        elif m.size_bits or m.type.kind == "array":
            unit = None
            if m.bitfield and m.type.size:
                width = m.type.size * 8
                start = m.offset_bits - m.offset_bits % width
                unit = (start, start + width)
            yield _Leaf(path or "{anonymous}", m, unit)


def _lanes(leaves: Sequence[_Leaf]) -> list[int]:
    """Lane per leaf so that overlapping members (unions) stack instead of hiding."""
    ends: list[int] = []
    lanes = []
    for leaf in leaves:
        start = leaf.member.offset_bits
        end = start + max(leaf.member.size_bits, 1)
        for i, e in enumerate(ends):
            if e <= start:
                ends[i] = end
                lanes.append(i)
                break
        else:
            ends.append(end)
            lanes.append(len(ends) - 1)
    return lanes


def _fmt(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _size_words(bits: int) -> str:
    return byte_size(bits, long=True)


def _row_height(lay: RecordLayout) -> int:
    """Taller rows for records whose members overlap in many lanes (big unions)."""
    leaves = sorted(_leaves(lay.members, fold=True), key=lambda x: x.member.offset_bits)
    return max(ROW_H, (max(_lanes(leaves), default=0) + 1) * MIN_LANE_H)


def _row(lay: RecordLayout, target: str, y: int, cell: float, colours: dict[str, int],
         varying: set[str], dirs: Sequence[str] = ()) -> str:
    px = cell / 8  # per bit
    w = lay.size * cell
    row_h = _row_height(lay)
    parts = [f'<g class="row" data-target="{escape(target)}" data-size="{lay.size}" '
             f'transform="translate({LABEL_W},{y})">',
             f'<rect class="frame" width="{_fmt(w)}" height="{row_h}">'
             f"<title>{escape(target)}: {lay.size} bytes, align {lay.align}</title></rect>"]
    step = 1 if cell >= 4 else 8 if cell * 8 >= 4 else 64
    step = max(step, _pow2_at_least(lay.size / MAX_TICKS))  # huge records: bounded grid
    ticks = "".join(f"M{_fmt(b * cell)} 0v{row_h}" for b in range(step, lay.size, step))
    if ticks:
        parts.append(f'<path class="grid" d="{ticks}"/>')
    leaves = sorted(_leaves(lay.members, fold=True), key=lambda x: x.member.offset_bits)
    lanes = _lanes(leaves)
    n_lanes = max(lanes, default=0) + 1
    lane_h = row_h / n_lanes
    for h in lay.holes:
        parts.append(f'<rect class="hole" x="{_fmt(h.offset_bits * px)}" '
                     f'width="{_fmt(h.size_bits * px)}" height="{row_h}">'
                     f"<title>hole: {_size_words(h.size_bits)} at {byte_position(h.offset_bits)}"
                     f"{' after ' + escape(h.after) if h.after else ''}</title></rect>")
    if lay.tail_padding_bits:
        start = lay.size * 8 - lay.tail_padding_bits
        parts.append(f'<rect class="tail" x="{_fmt(start * px)}" '
                     f'width="{_fmt(lay.tail_padding_bits * px)}" height="{row_h}">'
                     f"<title>tail padding: {_size_words(lay.tail_padding_bits)}</title></rect>")
    for leaf, lane in zip(leaves, lanes, strict=True):
        m = leaf.member
        y0 = lane * lane_h
        cls = f"m m{colours.get(leaf.path, 0) % PALETTE}"
        if leaf.path in varying:
            cls += " wd"
        if leaf.unit is not None:
            us, ue = leaf.unit
            parts.append(f'<rect class="unit" x="{_fmt(us * px)}" y="{_fmt(y0)}" '
                         f'width="{_fmt((ue - us) * px)}" height="{_fmt(lane_h)}">'
                         f"<title>storage unit of {escape(leaf.path)}: "
                         f"{escape(human_names(m.type.spelling, dirs))}, "
                         f"offset {byte_position(us)}, {_size_words(ue - us)}</title></rect>")
            cls += " bf"
        x, width = m.offset_bits * px, max(m.size_bits * px, 1.0)
        kind = f":{m.size_bits}" if m.bitfield else ""
        arms = ""
        if m.members and leaf.unit is None and _is_big_union(m):
            cls += " un"
            arms = (f"; a union of {len(m.members)}: "
                    + ", ".join(a.name or "{anonymous}" for a in m.members)
                    + " (each in the member table)")
        tip = (f"{leaf.path}{kind}: {human_names(m.type.spelling, dirs)}, "
               f"offset {byte_position(m.offset_bits)}, "
               f"{_size_words(m.size_bits)}"
               + (" (size differs between targets)" if leaf.path in varying else "") + arms)
        parts.append(f'<rect class="{cls}" data-member="{escape(leaf.path)}" x="{_fmt(x)}" '
                     f'y="{_fmt(y0 + 1)}" width="{_fmt(width)}" height="{_fmt(lane_h - 2)}">'
                     f"<title>{escape(tip)}</title></rect>")
        label = leaf.path.rsplit(".", 1)[-1] + ("*" if leaf.path in varying else "")
        if arms:
            label += f" (union of {len(m.members)})"
            if width < 7 * len(label) + 4:
                label = label.split(" (")[0]
        if width >= 7 * len(label) + 4 and lane_h >= 11:
            parts.append(f'<text x="{_fmt(x + width / 2)}" y="{_fmt(y0 + lane_h / 2 + 4)}">'
                         f"{escape(label)}</text>")
    parts.append(f'<text class="tl" x="-6" y="{row_h // 2 + 4}">{escape(target)}</text>')
    parts.append("</g>")
    return "".join(parts)


def _pow2_at_least(x: float) -> int:
    """The smallest power of two >= x (1 for x <= 1)."""
    return 1 << max(0, math.ceil(math.log2(x))) if x > 1 else 1


def _ruler(max_size: int, cell: float) -> str:
    step = max(_pow2_at_least(28 / cell), _pow2_at_least(max_size / MAX_TICKS))
    ticks = [f'<text x="{_fmt(LABEL_W + off * cell)}" y="10">{off}</text>'
             for off in range(0, max_size + 1, step)]
    return f'<g class="ruler">{"".join(ticks)}</g>'


def byte_map(record: Record, targets: Sequence[str], dirs: Sequence[str] = ()) -> str:
    """One SVG: a row per target (in the given order) on one byte scale; anonymous types
    named as :func:`naming.human_names` does, paths relative to ``dirs``."""
    present = [t for t in targets if t in record.layouts]
    max_size = max((record.layouts[t].size for t in present), default=0)
    # px per byte, rounded down to 1/1000 so that data-cell states it exactly
    cell = min(MAX_CELL, int(MAP_W * 1000 / max_size) / 1000) if max_size else MAX_CELL
    cell = cell or MAP_W / max_size  # records over a million bytes: no rounding to 0
    paths: dict[str, int] = {}
    sizes: dict[str, set[int]] = {}
    for t in present:
        for leaf in _leaves(record.layouts[t].members, fold=True):
            paths.setdefault(leaf.path, len(paths))
            sizes.setdefault(leaf.path, set()).add(leaf.member.size_bits)
    varying = {p for p, s in sizes.items() if len(s) > 1}
    width = LABEL_W + max_size * cell + 18  # room for the last ruler number
    rows, y = [], RULER_H
    for t in present:
        rows.append(_row(record.layouts[t], t, y, cell, paths, varying, dirs))
        y += _row_height(record.layouts[t]) + 6
    height = y
    return (f'<svg class="bytemap" xmlns="http://www.w3.org/2000/svg" '
            f'width="{_fmt(width)}" height="{height}" viewBox="0 0 {_fmt(width)} {height}" '
            f'data-bytes="{max_size}" data-cell="{_fmt(cell)}" role="img" '
            f'aria-label="byte map of {escape(record.name)}">'
            f"{_ruler(max_size, cell)}{''.join(rows)}</svg>")


# ------------------------------------------------------------------------------ the page

CSS = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d5d9e2;--bg:#fff;--err:#b3261e;--warn:#9a6700;
--note:#0b6bcb}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);
background:var(--bg);margin:0}
header{position:sticky;top:0;z-index:2;background:#f6f7fb;border-bottom:1px solid var(--line);
padding:8px 20px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:17px;margin:0}
header input{font:inherit;padding:4px 8px;width:22em;border:1px solid var(--line);
border-radius:4px}
header nav a{margin-right:10px}
main{padding:0 20px 40px}
h2{font-size:16px;margin:26px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
table.grid{border-collapse:collapse;margin:6px 0}
table.grid th,table.grid td{border:1px solid var(--line);padding:2px 8px;text-align:left;
vertical-align:top}
table.grid th{background:#f6f7fb}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.diff{background:#fff4cc}
section.rec{border-top:1px solid var(--line);padding:10px 0 14px;content-visibility:auto;
contain-intrinsic-size:auto 320px}
section.rec h3{font-size:15px;margin:0 0 4px}
section.rec h3 a.self{color:var(--muted);text-decoration:none;margin-left:6px}
.loc{color:var(--muted);font-size:12px}
.scroll{overflow-x:auto}
svg.bytemap{display:block;margin:6px 0}
svg.bytemap text{font:10px ui-monospace,"DejaVu Sans Mono",monospace;text-anchor:middle;
pointer-events:none;fill:#1d2330}
svg.bytemap text.tl{text-anchor:end;font-weight:bold}
svg.bytemap .ruler text{fill:#5b6475;text-anchor:start}
svg.bytemap rect.frame{fill:#fbfbfd;stroke:#8a93a6;stroke-width:1}
svg.bytemap path.grid{stroke:#e3e6ee;stroke-width:1}
svg.bytemap rect.m{stroke:#41495a;stroke-width:.6}
svg.bytemap rect.m:hover{stroke:#000;stroke-width:1.5}
svg.bytemap rect.wd{stroke:#b3261e;stroke-width:2;stroke-dasharray:4 2}
svg.bytemap rect.unit{fill:none;stroke:#41495a;stroke-dasharray:2 2;stroke-width:.8}
svg.bytemap rect.bf{opacity:.9}
svg.bytemap rect.hole{fill:url(#hatch-hole)}
svg.bytemap rect.tail{fill:url(#hatch-tail)}
.m0{fill:#8ecae6}.m1{fill:#cdb4db}.m2{fill:#a7c957}.m3{fill:#bde0fe}.m4{fill:#b8e0d2}
.m5{fill:#c8b6ff}.m6{fill:#90e0ef}.m7{fill:#84a59d}.m8{fill:#e9edc9}.m9{fill:#a2d2ff}
.m10{fill:#cfd8dc}.m11{fill:#b5e48c}
svg.bytemap rect.un{stroke-width:1.2}
table.members td:first-child{white-space:nowrap}
details.members summary{cursor:pointer;color:var(--muted);font-size:12px}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted);margin:4px 0}
.legend svg{vertical-align:middle;margin-right:4px}
.sev{display:inline-block;min-width:58px;font-weight:600}
.sev-error{color:var(--err)}.sev-warning{color:var(--warn)}.sev-note{color:var(--note)}
ul.findings{list-style:none;padding:0;margin:6px 0}
ul.findings li{margin:4px 0 8px;padding-left:8px;border-left:3px solid var(--line)}
ul.findings li.error{border-color:var(--err)}ul.findings li.warning{border-color:var(--warn)}
ul.findings li.note{border-color:var(--note)}
.fix{color:#1b5e20}.cause{color:var(--muted)}
.v-translate{color:var(--err);font-weight:600}.v-identical{color:#1b5e20}
.vnote{color:var(--muted);font-size:12px}
table.fsum td{font-size:13px}
details.index{margin:8px 0}details.index ul{columns:3 18em;font-size:13px}
[hidden]{display:none!important}
"""

DEFS = """<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>
<pattern id="hatch-hole" width="6" height="6" patternUnits="userSpaceOnUse"
 patternTransform="rotate(45)"><rect width="6" height="6" fill="#fde2e1"/>
<line x1="0" y1="0" x2="0" y2="6" stroke="#d1495b" stroke-width="2.5"/></pattern>
<pattern id="hatch-tail" width="6" height="6" patternUnits="userSpaceOnUse"
 patternTransform="rotate(-45)"><rect width="6" height="6" fill="#fff1d6"/>
<line x1="0" y1="0" x2="0" y2="6" stroke="#e09f3e" stroke-width="2.5"/></pattern>
</defs></svg>"""

SCRIPT = """
(function(){
  var box=document.getElementById('q');
  var recs=Array.prototype.slice.call(document.querySelectorAll('section.rec'));
  var idx=Array.prototype.slice.call(document.querySelectorAll('li[data-name]'));
  var count=document.getElementById('shown');
  function run(){
    var q=box.value.trim().toLowerCase(), n=0;
    recs.forEach(function(s){
      var hit=!q||s.getAttribute('data-search').indexOf(q)>=0;
      s.hidden=!hit; if(hit){n++;}
    });
    idx.forEach(function(li){
      li.hidden=!!q&&li.getAttribute('data-name').indexOf(q)<0;
    });
    count.textContent=n+' of '+recs.length+' records';
  }
  box.addEventListener('input',run);
  if(location.hash.indexOf('#q=')===0){box.value=decodeURIComponent(location.hash.slice(3));}
  run();
})();
"""

LEGEND = (
    '<div class="legend">'
    '<span><svg width="33" height="12"><rect width="11" height="12" class="m0"/>'
    '<rect x="11" width="11" height="12" class="m1"/><rect x="22" width="11" height="12" '
    'class="m2"/></svg>members (one colour each, the same on every target)</span>'
    '<span><svg width="22" height="12"><rect width="22" height="12" '
    'fill="url(#hatch-hole)"/></svg>hole</span>'
    '<span><svg width="22" height="12"><rect width="22" height="12" '
    'fill="url(#hatch-tail)"/></svg>tail padding</span>'
    '<span><svg width="22" height="12"><rect width="22" height="12" fill="none" '
    'stroke="#41495a" stroke-dasharray="2 2"/></svg>bitfield storage unit</span>'
    '<span><svg width="22" height="12"><rect x="1" y="1" width="20" height="10" '
    'fill="#fbfbfd" stroke="#b3261e" stroke-width="2" stroke-dasharray="4 2"/></svg>'
    "size differs between targets (name marked *)</span></div>"
)


def _targets_overview(model: Model, records: Sequence[Record],
                      findings: Sequence[Finding]) -> str:
    rows = ['<table class="grid"><thead><tr><th>target</th><th>triple</th><th>pointer</th>'
            '<th>endian</th><th>records</th><th>with holes or tail padding</th>'
            "<th>findings</th></tr></thead><tbody>"]
    for name, info in model.targets.items():
        present = [r for r in records if name in r.layouts]
        padded = sum(1 for r in present
                     if r.layouts[name].holes or r.layouts[name].tail_padding_bits)
        hits = sum(1 for f in findings if name in f.targets)
        kind = " (hypothetical)" if info.hypothetical else ""
        rows.append(f"<tr><td><b>{escape(name)}</b>{kind}</td><td><code>{escape(info.triple)}"
                    f"</code></td><td class=num>{info.pointer_bits}-bit</td>"
                    f"<td>{escape(info.endian)}</td><td class=num>{len(present)}</td>"
                    f"<td class=num>{padded}</td><td class=num>{hits}</td></tr>")
    rows.append("</tbody></table>")
    differ = sum(1 for r in records  # the one comparison (docs/comparison.md)
                 if not compare_targets(model, r, model.targets).same)
    rows.append(f"<p>{len(records)} records; {differ} are laid out differently on some of "
                f"the targets.</p>")
    if model.failures:
        rows.append("<p>Did not parse (results for the other targets stand):</p><ul>")
        rows.extend(f"<li><code>{escape(f.header)}</code> on <b>{escape(f.target)}</b>: "
                    f"{escape(f.summary())}</li>" for f in model.failures)
        rows.append("</ul>")
    return "\n".join(rows)


def _findings_table(findings: Sequence[Finding], anchors: dict[str, str]) -> str:
    """One line per finding, linking to its record (the full text is under the record)."""
    rows = ['<table class="grid fsum"><thead><tr><th>severity</th><th>rule</th>'
            "<th>record</th><th>member</th><th>targets</th></tr></thead><tbody>"]
    order = {"error": 0, "warning": 1, "note": 2}
    for f in sorted(findings, key=lambda f: (order.get(f.severity, 3), f.rule, f.record)):
        rows.append(f'<tr><td class="sev sev-{escape(f.severity)}">{escape(f.severity)}</td>'
                    f"<td><b>{escape(f.rule)}</b> {escape(f.name)}</td>"
                    f"<td>{_record_link(f.record, anchors)}</td>"
                    f"<td><code>{escape(f.member)}</code></td>"
                    f'<td>{escape(", ".join(f.targets))}</td></tr>')
    rows.append("</tbody></table>")
    return "".join(rows)


def _finding_item(f: Finding) -> str:
    loc = f.location
    member = f" <code>{escape(f.member)}</code>" if f.member else ""
    return (f'<li class="{escape(f.severity)}"><span class="sev sev-{escape(f.severity)}">'
            f"{escape(f.severity)}</span> <b>{escape(f.rule)}</b> {escape(f.name)}{member} "
            f'<span class="loc">[{escape(", ".join(f.targets))}] '
            f"{escape(loc.file)}:{loc.line}</span><br>{escape(f.message)}<br>"
            f'<span class="cause">cause: {escape(f.cause)}</span><br>'
            f'<span class="fix">fix: {escape(f.fix)}</span></li>')


def _layout_table(record: Record, targets: Sequence[str]) -> str:
    present = [t for t in targets if t in record.layouts]
    cells = {
        "size": [str(record.layouts[t].size) for t in present],
        "align": [str(record.layouts[t].align) for t in present],
        "holes": [_size_words(sum(h.size_bits for h in record.layouts[t].holes))
                  if record.layouts[t].holes else "0" for t in present],
        "tail padding": [_size_words(record.layouts[t].tail_padding_bits)
                         if record.layouts[t].tail_padding_bits else "0" for t in present],
    }
    head = "".join(f"<th>{escape(t)}</th>" for t in present)
    body = []
    for label, values in cells.items():
        cls = ' class="num diff"' if len(set(values)) > 1 else " class=num"
        body.append(f"<tr><th>{label}</th>" + "".join(f"<td{cls}>{v}</td>" for v in values)
                    + "</tr>")
    return f'<table class="grid"><thead><tr><th></th>{head}</tr></thead><tbody>' \
           f'{"".join(body)}</tbody></table>'


def _member_table(record: Record, targets: Sequence[str], dirs: Sequence[str] = ()) -> str:
    """Every member (big unions' arms too), its type and its offset +size on each target;
    cells that differ between targets highlighted. Folded when long."""
    present = [t for t in targets if t in record.layouts]
    rows: dict[str, dict[str, _Leaf]] = {}
    for t in present:
        for leaf in _leaves(record.layouts[t].members):
            rows.setdefault(leaf.path, {})[t] = leaf
    head = "".join(f"<th>{escape(t)}</th>" for t in present)
    body = [] if rows else [f'<tr><td colspan="{len(present) + 2}">no named members '
                            "(unnamed bit-fields or padding only)</td></tr>"]
    for path, on in rows.items():
        types = list(dict.fromkeys(human_names(leaf.member.type.spelling, dirs)
                                   for leaf in on.values()))
        spans = [_span((on[t].member.offset_bits, on[t].member.size_bits)) if t in on
                 else "—" for t in present]
        cls = ' class="num diff"' if len(set(spans)) > 1 else " class=num"
        width = f":{next(iter(on.values())).member.bit_width}" \
            if next(iter(on.values())).member.bitfield else ""
        body.append(f"<tr><td><code>{escape(path)}{width}</code></td>"
                    f"<td><code>{escape(' / '.join(types))}</code></td>"
                    + "".join(f"<td{cls}>{v}</td>" for v in spans) + "</tr>")
    table = (f'<table class="grid members"><thead><tr><th>member</th><th>type</th>{head}'
             f'</tr></thead><tbody>{"".join(body)}</tbody></table>')
    opened = " open" if len(rows) <= OPEN_MEMBERS else ""
    return (f'<details class="members"{opened}><summary>{len(rows)} member'
            f'{"s" if len(rows) != 1 else ""} (offset +size in bytes)</summary>{table}'
            "</details>")


def record_order(records: Iterable[Record], findings: Sequence[Finding]) -> list[Record]:
    """The order records are shown in: those with findings first, then the others, each
    as the headers define them (``Record.order``); typedef-named records (Xen's
    ``__guest_handle_*``) last."""
    flagged = {f.record for f in findings}
    return sorted(records, key=lambda r: (not r.name.startswith(("struct ", "union ")),
                                          r.name not in flagged, r.order, r.name))


def _record_section(record: Record, anchor: str, targets: Sequence[str],
                    findings: Sequence[Finding], dirs: Sequence[str] = ()) -> str:
    loc = record.location
    missing = [t for t in targets if t not in record.layouts]
    words = {record.name.lower(), *(p.lower() for lay in record.layouts.values()
                                    for p in (leaf.path for leaf in _leaves(lay.members)))}
    parts = [f'<section class="rec" id="{anchor}" data-name="{escape(record.name)}" '
             f'data-search="{escape(" ".join(sorted(words)))}">',
             f'<h3>{escape(record.name)}<a class="self" href="#{anchor}">#</a></h3>',
             f'<div class="loc">{escape(loc.file)}:{loc.line}</div>',
             f'<div class="scroll">{byte_map(record, targets, dirs)}</div>',
             _member_table(record, targets, dirs), _layout_table(record, targets)]
    if missing:
        parts.append(f'<div class="vnote">not defined on: {escape(", ".join(missing))}</div>')
    room = headroom_line(headroom(record, targets))
    if room:
        parts.append(f'<div class="vnote headroom">{escape(room)}</div>')
    if findings:
        parts.append('<ul class="findings">' + "".join(_finding_item(f) for f in findings)
                     + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def render_html(model: Model, records: Sequence[Record], findings: Sequence[Finding],
                compat: CompatReportLike | None = None, sections: Sequence[Section] = (),
                title: str = "abiscope report", dirs: Sequence[str] = ()) -> str:
    """The whole report as one HTML document (a str); anonymous types are named as C
    readers know them, paths relative to ``dirs`` (the include dirs)."""
    targets = list(model.targets)
    ordered = record_order(records, findings)
    anchors = anchor_ids(ordered)
    by_record: dict[str, list[Finding]] = {}
    for f in findings:
        by_record.setdefault(f.record, []).append(f)
    extra = list(sections)
    if compat is not None:
        extra.insert(0, compat_section(compat, anchors))
    nav = ['<a href="#targets">targets</a>', '<a href="#findings">findings</a>',
           *(f'<a href="#{escape(s.id)}">{escape(s.title.split(":")[0])}</a>' for s in extra),
           '<a href="#records">records</a>']
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning",
                                                                       "note")}
    inputs = ", ".join(model.inputs) or "—"
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
           DEFS, "<header>", f"<h1>{escape(title)}</h1>",
           '<input id="q" type="search" placeholder="search records and members" '
           'aria-label="search records and members">',
           f'<span id="shown" class="loc">{len(ordered)} records</span>',
           f'<nav>{"".join(nav)}</nav>', "</header>", "<main>",
           f'<p class="loc">abiscope {escape(__version__)} · inputs: {escape(inputs)}</p>',
           '<h2 id="targets">Targets</h2>', _targets_overview(model, ordered, findings),
           '<h2 id="findings">Findings</h2>',
           f"<p>{len(findings)} findings: {counts['error']} error(s), {counts['warning']} "
           f"warning(s), {counts['note']} note(s).</p>"]
    if findings:
        by_rule: dict[tuple[str, str], int] = {}
        for f in findings:
            by_rule[(f.rule, f.name)] = by_rule.get((f.rule, f.name), 0) + 1
        out.append("<p>by rule: " + ", ".join(
            f"<b>{escape(r)}</b> {escape(n)} {c}" for (r, n), c in sorted(by_rule.items()))
            + "</p>")
        out.append(f"<details><summary>all {len(findings)} findings, most severe first"
                   f"</summary>{_findings_table(findings, anchors)}</details>")
    for s in extra:
        out += [f'<h2 id="{escape(s.id)}">{escape(s.title)}</h2>', s.html]
    out += ['<h2 id="records">Records</h2>', LEGEND,
            f'<details class="index"><summary>index of {len(ordered)} records (A-Z)'
            "</summary><ul>",
            *(f'<li data-name="{escape(r.name.lower())}"><a href="#{anchors[r.name]}">'
              f"{escape(r.name)}</a></li>" for r in sorted(ordered, key=lambda r: r.name)),
            "</ul></details>"]
    out += [_record_section(r, anchors[r.name], targets, by_record.get(r.name, []), dirs)
            for r in ordered]
    out += ["</main>", f"<script>{SCRIPT}</script>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
