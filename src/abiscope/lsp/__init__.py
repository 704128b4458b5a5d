"""``abiscope lsp``: a language server for C headers (stdio, pygls).

Data flows one way: the server (:mod:`.server`) keeps the editor's buffers and asks a worker
process (:mod:`.worker`) to analyse one; the worker runs :func:`.analysis.analyze` (parse
with the buffer's unsaved text, ``check``'s rules, verified padding fixes, compat verdicts)
and sends back plain data (:class:`.analysis.Analysis`); hovers are rendered from the last
analysis that produced a model (:mod:`abiscope.report.hover`), so a broken buffer mid-edit
never takes the hover away and a slow parse never blocks the editor.
"""
