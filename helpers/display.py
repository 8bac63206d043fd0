"""Show a helper's own source in a notebook, so students read what they call."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from IPython.display import Markdown


def show_source(function: Callable[..., Any]) -> Markdown:
    """The source code of a helper function, rendered as a highlighted code block."""
    return Markdown(f"```python\n{inspect.getsource(function).rstrip()}\n```")
