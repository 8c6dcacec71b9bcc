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
    # a copy of MathJax 3 shipped on PyPI, served from _static/mathjax: the math
    # renders without internet (Sphinx's default loads MathJax from a CDN)
    "sphinx-mathjax-offline",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
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

# Gallery: the examples in ../examples/gallery run during the build when
# EPDF_GALLERY=1 (about a minute on 2 cores); otherwise their pages are built
# from the code without running it (the quick narrative build).
sphinx_gallery_conf = {
    "examples_dirs": "../examples/gallery",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "plot_gallery": "True" if os.environ.get("EPDF_GALLERY") else "False",
    "download_all_examples": False,
    "reset_modules": ("matplotlib",),
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}
