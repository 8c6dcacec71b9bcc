"""Every public function, method and class has an example that runs.

An example is a doctest in the docstring (run by ``--doctest-modules``) or a
call in a gallery script (run by the documentation test). Properties and
dataclass fields are data, not callables, and are left out; so are result
containers — NamedTuples and dataclasses without public methods of their own,
which users receive from a function (whose example shows them) and never
build. Their public methods, if any, still need an example.
"""

import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pyxem_epdf

ROOT = Path(__file__).resolve().parents[1]
GALLERY = "\n".join(p.read_text(encoding="utf-8")
                    for p in (ROOT / "examples" / "gallery").glob("plot_*.py"))


def _public_modules():
    for info in pkgutil.walk_packages(pyxem_epdf.__path__, "pyxem_epdf."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            yield importlib.import_module(info.name)


def _public_methods(cls):
    return [m for m, fn in vars(cls).items() if not m.startswith("_") and inspect.isfunction(fn)]


def _is_result_container(obj):
    """A NamedTuple or dataclass with no public methods of its own (pure data)."""
    if not inspect.isclass(obj):
        return False
    record = (issubclass(obj, tuple) and hasattr(obj, "_fields")) or dataclasses.is_dataclass(obj)
    return record and not _public_methods(obj)


def _callables():
    seen = set()
    for mod in _public_modules():
        names = getattr(mod, "__all__", None)
        if names is None:  # public names defined in the module itself
            names = [n for n, v in vars(mod).items() if not n.startswith("_")
                     and getattr(v, "__module__", None) == mod.__name__]
        for name in names:
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if not getattr(obj, "__module__", "").startswith("pyxem_epdf") or id(obj) in seen:
                continue
            seen.add(id(obj))
            if not _is_result_container(obj):
                yield f"{mod.__name__}.{name}", name, obj
            if inspect.isclass(obj):
                for meth, fn in vars(obj).items():
                    if not meth.startswith("_") and inspect.isfunction(fn):
                        yield f"{mod.__name__}.{name}.{meth}", meth, fn


def _has_example(short, obj):
    doc = inspect.getdoc(obj) or ""
    if ">>>" in doc:
        return True
    return re.search(rf"\b{re.escape(short)}\(", GALLERY) is not None


def test_every_public_callable_has_a_running_example():
    items = list(_callables())
    assert len(items) > 80  # the audit sees the API
    missing = [q for q, short, obj in items if not _has_example(short, obj)]
    assert missing == [], f"{len(missing)} public callables without an example:\n" + \
        "\n".join(missing)
