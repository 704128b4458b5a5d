"""``abiscope lsp`` end to end in a real editor: Debian's Neovim (0.7), headless, its
built-in client started with ``vim.lsp.start_client``, scripted in Lua: open a header, wait
for the diagnostics, ask a hover and the code actions, write what the editor received to a
file. Skips with a reason where nvim is missing (fails under CI=true)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import skip_or_fail

pytest.importorskip("pygls")

SRC = Path(__file__).resolve().parents[1] / "src"
HEADER = """\
#include <stdint.h>

struct pkt {
    uint8_t kind;
    uint32_t len;
    uint16_t flags;
};
"""
LUA = r"""
local header, out, python = os.getenv("LSP_HEADER"), os.getenv("LSP_OUT"), os.getenv("LSP_PY")
local id = vim.lsp.start_client({
  cmd = {python, "-m", "abiscope", "lsp"},
  root_dir = vim.fn.fnamemodify(header, ":h"),
})
vim.cmd("edit " .. header)
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, id)
local got = vim.wait(30000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
local client = vim.lsp.get_client_by_id(id)
local doc = {uri = vim.uri_from_bufnr(buf)}
local hover = client.request_sync("textDocument/hover",
  {textDocument = doc, position = {line = 2, character = 8}}, 10000, buf)
local actions = client.request_sync("textDocument/codeAction",
  {textDocument = doc, range = {start = {line = 2, character = 0},
   ["end"] = {line = 2, character = 0}}, context = {diagnostics = {}}}, 10000, buf)
local diags = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(diags, {code = d.code, message = d.message, lnum = d.lnum})
end
local result = {
  waited = got,
  diagnostics = diags,
  hover = hover and hover.result and hover.result.contents.value or vim.NIL,
  actions = actions and actions.result or vim.NIL,
}
vim.fn.writefile({vim.fn.json_encode(result)}, out)
client.stop()
vim.cmd("qa!")
"""


def test_neovim_hover_diagnostics_and_code_action(tmp_path: Path) -> None:
    nvim = shutil.which("nvim")
    if nvim is None:
        skip_or_fail("nvim is not installed (Debian: apt install neovim)")
    assert nvim is not None
    proj = tmp_path / "proj"
    (proj / ".git").mkdir(parents=True)
    (proj / "abiscope.toml").write_text('targets = ["x86_64", "i386"]\n')
    header = proj / "pkt.h"
    header.write_text(HEADER)
    script, out = tmp_path / "e2e.lua", tmp_path / "result.json"
    script.write_text(LUA)
    env = {**os.environ, "LSP_HEADER": str(header), "LSP_OUT": str(out),
           "LSP_PY": sys.executable,
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([nvim, "--headless", "-u", "NONE", "-i", "NONE", "-n", "-c",
                          f"luafile {script}"], env=env, cwd=proj, capture_output=True,
                         text=True, timeout=90, check=False)
    assert out.is_file(), f"nvim wrote no result: {run.stdout}\n{run.stderr}"
    result = json.loads(out.read_text())
    assert result["waited"], result
    codes = {d["code"] for d in result["diagnostics"]}
    assert {"ABI001", "ABI002"} <= codes, result["diagnostics"]
    hover = result["hover"]
    assert isinstance(hover, str) and "**struct pkt**" in hover
    assert "x86_64" in hover and "i386" in hover and "sizeof" in hover
    assert all(len(line) <= 80 for line in hover.splitlines())
    actions = result["actions"]
    assert actions and "explicit" in actions[0]["title"], actions
