"""The one part of the build pyproject.toml cannot declare yet without a warning: the walk's
hot loops in C (``abiscope.frontend._facts``, loaded with ctypes by
``abiscope.frontend.facts``). ``optional``: without a C compiler the install goes on, and
the walk reads the same facts through ``clang.cindex`` (slower)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("abiscope.frontend._facts", ["src/abiscope/frontend/_facts.c"],
                             optional=True, extra_compile_args=["-O2"])])
