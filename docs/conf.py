"""Sphinx configuration of the pyxem-epdf documentation."""

import os

import pyxem_epdf

project = "pyxem-epdf"
author = "The pyxem-epdf developers"
copyright = "2026, The pyxem-epdf developers (GPL-3.0-or-later)"
release = pyxem_epdf.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
# Links to other projects' docs need their inventories from the internet; offline
# builds (CI, tests) leave them out so that `-W` only reports problems of ours.
_intersphinx = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "hyperspy": ("https://hyperspy.org/hyperspy-doc/current", None),
    "pyxem": ("https://pyxem.readthedocs.io/en/latest", None),
    "dask": ("https://docs.dask.org/en/stable", None),
}
intersphinx_mapping = _intersphinx if os.environ.get("EPDF_DOCS_ONLINE") else {}
html_theme = "pydata_sphinx_theme"
exclude_patterns = ["_build"]
