"""Sphinx configuration: ``nox -s docs`` builds the site with warnings as errors."""

from __future__ import annotations

import importlib.metadata

project = "multi_await"
author = "multi_await developers"
copyright = "multi_await developers"
release = importlib.metadata.version("multi-await")

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinxcontrib_trio",
    "sphinx_inline_tabs",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
# Python goes in ``.. code-block:: python``, which tests/test_docs_examples.py runs;
# a plain ``::`` block is output or a shell command, and is not highlighted as Python.
highlight_language = "text"

# The build has no network: the inventories are kept in docs/inventories/, and
# docs/inventories/refresh.py fetches them again.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3.13/", "inventories/python.inv"),
    "anyio": ("https://anyio.readthedocs.io/en/stable/", "inventories/anyio.inv"),
    "trio": ("https://trio.readthedocs.io/en/stable/", "inventories/trio.inv"),
}
nitpicky = True

autodoc_member_order = "bysource"
# The docstrings say what each parameter takes; "none" also keeps the typing
# overloads of gather_or_abort out of its entry.
autodoc_typehints = "none"

html_theme = "furo"
html_title = "multi_await"
html_static_path = ["_static"]
