"""``abiscope lsp`` at the protocol level: a real server process driven by pytest-lsp's
generic client (initialize, open, hover, diagnostics, code action, a broken edit, a refused
include). The layouts shown are checked against abiscope's own model of the same header
(the model itself is checked against GCC elsewhere); the fix is checked by checking the
fixed header again."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")

from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from abiscope.frontend import ParseOptions, parse  # noqa: E402
from abiscope.model import Record, iter_members  # noqa: E402
from abiscope.targets import resolve  # noqa: E402

SEED = Path(__file__).resolve().parents[1] / "src" / "abiscope" / "data" / "seed"
PKT = """\
#include <stdint.h>

struct pkt {
    uint8_t kind;
    uint32_t len;
    uint16_t flags;
};

typedef struct pkt pkt_t;

struct clean {
    uint32_t a;
    uint32_t b;
};
"""
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}


def _project(root: Path) -> Path:
    """A git-like project: abiscope.toml (two targets), the seed headers, pkt.h; a secret
    outside it."""
    proj = root / "proj"
    (proj / ".git").mkdir(parents=True)
    (proj / "abiscope.toml").write_text('targets = ["x86_64", "i386"]\n')
    for name in ("dm_op.h", "xen-arch.h", "xen-handle64.h"):
        shutil.copy(SEED / name, proj / name)
    (proj / "pkt.h").write_text(PKT)
    (root / "outside").mkdir()
    (root / "outside" / "secret.h").write_text("struct secret { int s; };\n")
    return proj


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "abiscope", "lsp", "--debounce", "0.1"],
    server_env=ENV))
async def client(lsp_client: LanguageClient, tmp_path_factory: pytest.TempPathFactory):
    lsp_client.project = _project(tmp_path_factory.mktemp("lsp"))  # type: ignore[attr-defined]
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        root_uri=lsp_client.project.as_uri()))  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def _open(client: LanguageClient, path: Path, text: str | None = None
                ) -> list[types.Diagnostic]:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=path.as_uri(), language_id="c", version=1,
                                             text=path.read_text() if text is None else text)))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[path.as_uri()])


async def _hover(client: LanguageClient, path: Path, line: int, word: str) -> str | None:
    text = path.read_text().splitlines()[line]
    result = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
        position=types.Position(line, text.index(word) + 1)))
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


def _line(path: Path, needle: str) -> int:
    return next(i for i, s in enumerate(path.read_text().splitlines()) if needle in s)


@pytest.mark.asyncio
async def test_hover_shows_the_models_layout_side_by_side(client: LanguageClient):
    proj: Path = client.project  # type: ignore[attr-defined]
    header = proj / "dm_op.h"
    await _open(client, header)
    hover = await _hover(client, header, _line(header, "struct xen_dm_op_buf {"),
                         "xen_dm_op_buf")
    assert hover is not None
    assert all(len(line) <= 80 for line in hover.splitlines()), hover
    model = parse([str(header)], list(resolve("x86_64,i386").targets), ParseOptions())
    record = model.record("struct xen_dm_op_buf")
    assert record is not None
    table = hover.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    order = table[0].split()
    rows = {cells[0]: [c.rstrip("*") for c in cells[1:]] for cells in map(str.split,
                                                                         table[1:])}
    for i, target in enumerate(order):
        lay = record.layouts[target]
        assert rows["sizeof"][i] == str(lay.size)
        assert rows["alignof"][i] == str(lay.align)
        for m in lay.members:
            assert rows[m.name][i] == f"{m.offset_bits // 8}+{m.size_bits // 8}"
    assert sorted(order) == ["i386", "x86_64"]
    assert "compat x86_64 → i386: **translate**" in hover
    assert "*" in hover  # the cells that differ are marked
    # its headroom, in layout's words (no tail padding common to both: none)
    assert "headroom: none" in hover
    # a member names its record and points at its row
    member = await _hover(client, header, _line(header, "xen_ulong_t size;"), "size")
    assert member is not None and "member `size`" in member and "> size" in member


@pytest.mark.asyncio
async def test_diagnostics_code_action_and_typedef_hover(client: LanguageClient):
    proj: Path = client.project  # type: ignore[attr-defined]
    header = proj / "pkt.h"
    diags = await _open(client, header)
    codes = {d.code for d in diags}
    assert {"ABI001", "ABI002"} <= codes, diags
    for d in diags:
        assert d.source == "abiscope"
        assert d.code_description is not None
        assert d.code_description.href.endswith(f"/{d.code}.md")
        assert Path(d.code_description.href.removeprefix("file://")).is_file()
        assert "x86_64" in d.message and "i386" in d.message
    typedef = await _hover(client, header, _line(header, "typedef struct pkt"), "pkt_t")
    assert typedef is not None and "**struct pkt**" in typedef
    line = _line(header, "struct pkt {")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=header.as_uri()),
        range=types.Range(types.Position(line, 0), types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=diags)))
    assert actions, "no verified fix offered"
    action = actions[0]
    assert isinstance(action, types.CodeAction) and action.edit and action.edit.changes
    (edit,) = action.edit.changes[header.as_uri()]
    lines = PKT.splitlines(keepends=True)
    start = sum(len(s) for s in lines[:edit.range.start.line]) + edit.range.start.character
    end = sum(len(s) for s in lines[:edit.range.end.line]) + edit.range.end.character
    fixed = PKT[:start] + edit.new_text + PKT[end:]
    header.write_text(fixed)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=header.as_uri())))
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=header.as_uri(), version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    for _ in range(6):  # (open's second, the save's two and the change's publishes)
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        codes = {d.code for d in client.diagnostics[header.as_uri()]}
        if not {"ABI001", "ABI002"} & codes:
            break
    assert not {"ABI001", "ABI002"} & codes, client.diagnostics[header.as_uri()]


@pytest.mark.asyncio
async def test_a_broken_edit_gives_diagnostics_and_keeps_the_hover(client: LanguageClient):
    proj: Path = client.project  # type: ignore[attr-defined]
    header = proj / "pkt.h"
    await _open(client, header)
    broken = PKT.replace("uint16_t flags;", "uint16_t flags = ;\n    struct {")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=header.as_uri(), version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)]))
    for _ in range(4):  # (open publishes twice: its diagnostics, then with fixes verified)
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        diags = client.diagnostics[header.as_uri()]
        errors = [d for d in diags if d.severity == types.DiagnosticSeverity.Error]
        if errors:
            break
    assert errors and "does not parse" in errors[0].message, diags
    hover = await _hover(client, header, _line(header, "struct pkt {"), "pkt")
    assert hover is not None and "last version of the buffer that parsed" in hover


@pytest.mark.asyncio
async def test_an_include_escaping_the_project_is_refused(client: LanguageClient):
    proj: Path = client.project  # type: ignore[attr-defined]
    header = proj / "escape.h"
    header.write_text('#include "../outside/secret.h"\nstruct e { struct secret s; };\n')
    diags = await _open(client, header)
    assert diags and diags[0].severity == types.DiagnosticSeverity.Error
    assert "secret.h" in diags[0].message and "refused" in diags[0].message, diags


def test_worker_stops_a_runaway_analysis_and_serves_the_next(tmp_path: Path):
    """A header whose macros double 26 times (minutes of clang, GBs) is stopped at the
    timeout and reported; the worker restarts for the next request."""
    import time

    from abiscope.lsp.analysis import Request
    from abiscope.lsp.worker import Worker

    proj = _project(tmp_path)
    bomb = proj / "bomb.h"
    bomb.write_text("#define A0 1\n" + "".join(f"#define A{i} (A{i - 1}+A{i - 1})\n"
                                              for i in range(1, 27))
                    + "struct bomb { char c[A26 - A26 + 1]; };\n")
    worker = Worker(timeout=3)
    try:
        start = time.monotonic()
        result = worker.run(Request(str(bomb), None))
        assert result is not None and time.monotonic() - start < 30
        assert result.problems and result.problems[0].severity == "error"
        assert result.model is None
        after = worker.run(Request(str(proj / "pkt.h"), PKT))
        assert after is not None and after.model is not None
        assert {f.rule for f in after.findings} >= {"ABI001", "ABI002"}
    finally:
        worker.close()


def test_definition_span_skips_comments_and_nested_records():
    from abiscope.errors import SourceLocation
    from abiscope.lsp.locate import definition_span, word_at


    text = ("/* struct a { */\nstruct outer {\n    struct { int x; } in; /* } ; */\n"
            "    char c; // };\n};\nint after;\n")
    record = Record(name="struct outer", kind="struct",
                    location=SourceLocation("x.h", 2, 8), layouts={})
    assert definition_span(text, record) == ((1, 0), (4, 2))
    assert word_at(text, 1, 9) == ("outer", 7)
    typedef = Record(name="pair_t", kind="struct", location=SourceLocation("x.h", 1, 9),
                     layouts={})
    assert definition_span("typedef struct { int a; } pair_t;\n", typedef) == \
        ((0, 0), (0, 33))


def test_config_and_compile_commands_are_found_from_the_header(tmp_path: Path):
    """-I and -D come from compile_commands.json found from the header's directory (its
    entry for the header), the targets from abiscope.toml; the buffer's text is parsed,
    not the file on disk."""
    import json

    from abiscope.lsp.analysis import Request, analyze

    proj = _project(tmp_path)
    (proj / "inc").mkdir()
    (proj / "inc" / "dep.h").write_text("typedef struct { char c; } dep_t;\n")
    sub = proj / "sub"
    sub.mkdir()
    header = sub / "uses.h"
    header.write_text("#error not this text\n")
    (proj / "compile_commands.json").write_text(json.dumps([{
        "directory": str(proj), "file": "sub/uses.h",
        "arguments": ["cc", "-Iinc", "-DWIDTH=3", "-c", "sub/uses.h"]}]))
    buffer = '#include "dep.h"\nstruct uses { dep_t d; int w[WIDTH]; };\n'
    result = analyze(Request(str(header), buffer))
    assert not result.problems, result.problems
    assert result.model is not None and list(result.model.targets) == ["x86_64", "i386"]
    record = result.model.record("struct uses")
    on_disk = sub / "same.h"  # the same text, parsed as the CLI would with -I/-D given
    on_disk.write_text(buffer)
    expected = parse([str(on_disk)], list(resolve("x86_64,i386").targets), ParseOptions(
        include_dirs=(str(proj / "inc"),), defines=("WIDTH=3",))).record("struct uses")
    assert record is not None and expected is not None
    def shape(r: Record) -> dict[str, tuple[int, int, list[tuple[str, int, int]]]]:
        return {t: (lay.size, lay.align, [(m.name, m.offset_bits, m.size_bits)
                                          for _, m in iter_members(lay.members)])
                for t, lay in r.layouts.items()}

    assert shape(record) == shape(expected)
    assert result.config == str(proj / "abiscope.toml")
