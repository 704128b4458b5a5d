"""abiscope: exact C struct layouts on every target ABI from headers alone, and what will break.

Data flows one way: frontend (libclang) → model (plain frozen data) → analyses → reporters
→ cli. The library API: :func:`abiscope.frontend.parse`, :mod:`abiscope.model`,
:mod:`abiscope.targets`.
"""

__version__ = "0.1.0"
