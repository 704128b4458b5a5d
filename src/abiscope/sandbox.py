"""A transitional alias of :mod:`abiscope.frontend.sandbox`, kept only because
``frontend/ioctl_scan.py`` still imports ``from .. import sandbox``; delete it once that
import reads ``from . import sandbox``."""

from .frontend.sandbox import *  # noqa: F403
from .frontend.sandbox import __all__ as __all__
