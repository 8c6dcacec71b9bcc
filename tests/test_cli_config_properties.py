"""Property tests of the batch configuration: every value gets a valid config or a clear error.

For random values of every key (numbers in and out of range, NaN/inf, wrong
types, strings, lists, tables), :func:`pyxem_epdf.batch.load_config` either
returns a complete configuration that holds exactly the given values, or raises
a :class:`~pyxem_epdf.batch.ConfigError` naming the key; it never raises
anything else. On a tiny lazy scan, :func:`~pyxem_epdf.batch.plan` of a valid
configuration returns the plan or raises a ``ConfigError``, computing nothing.
Also: the TOML parser falls back to ``tomli`` (Python 3.10), and the batch and
CLI modules parse as Python 3.10.
"""

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyxem_epdf as epdf
from pyxem_epdf import batch, data

from .conftest import ComputeCounter

KEYS = [(section, key) for section, keys in batch.SCHEMA.items() for key in keys]

numbers = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-5.0, 30.0),
    st.sampled_from([0, 1, 2, 0.0, 1e-7, 0.18, 1.6, 2.5, 8.0, 9.0, 20.0, 500]),
)
anything = st.one_of(
    numbers,
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["variance", "poisson", "none", "closure", "ica", "foo", "SiO2", "SiQ2"]),
    st.lists(numbers, max_size=3),
    st.lists(st.text(max_size=2), max_size=3),
    st.dictionaries(st.sampled_from(["Si", "O", "Qq", "C"]), numbers, max_size=3),
)


def _names_key(message, section, key):
    """The message names the key (``section.key``, or the bare key in the [section] text)."""
    return f"'{section}.{key}'" in message or f"{section}.{key}" in message or (
        f"[{section}]" in message and key in message)


def _check(raw):
    try:
        cfg = batch.load_config(raw)
    except batch.ConfigError as err:
        message = str(err)
        given = [(s, k) for s, keys in raw.items() for k in keys]
        assert any(_names_key(message, s, k) for s, k in given), message
        assert "got" in message or "must" in message or "needs" in message, message
        return None
    assert set(cfg) == set(batch.SCHEMA)
    for section, keys in raw.items():
        for key, value in keys.items():
            expected = None if (section, key) == ("chain", "weights") and value == "none" \
                else value
            assert cfg[section][key] == expected
            if isinstance(value, float):
                assert math.isfinite(value)
    return cfg


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(KEYS), anything)
def test_load_config_one_random_key(section_key, value):
    section, key = section_key
    raw = {"chain": {"composition": "SiO2"}}
    raw.setdefault(section, {})[key] = value
    _check(raw)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), anything, min_size=1, max_size=6))
def test_load_config_several_random_keys(values):
    raw = {"chain": {"composition": "SiO2"}}
    for (section, key), value in values.items():
        raw.setdefault(section, {})[key] = value
    _check(raw)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.dictionaries(st.text(max_size=6), anything,
                                                            max_size=2), max_size=3))
def test_load_config_unknown_sections_and_keys(raw):
    try:
        batch.load_config(raw)
    except batch.ConfigError as err:
        assert "Unknown" in str(err) or "chain.composition" in str(err) or "must be" in str(
            err), str(err)


@pytest.fixture(scope="module")
def lazy_scan():
    synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32), s_scale=0.16,
                                     lazy=True)
    return synth.signal


def base_config():
    return {"chain": {"composition": "Zn(C3H3N2)2", "s_range": [1.4, 2.3], "s_min": 0.2,
                      "r_max": 8.0, "r_step": 0.05},
            "integration": {"npt": 24}, "mapping": {"r_range": [1.0, 6.0]}}


def test_base_config_fits_the_scan(lazy_scan):
    assert len(batch.plan(lazy_scan, batch.load_config(base_config()))) == 8


in_range = {
    ("integration", "npt"): st.sampled_from([0, 2, 3, 16, 24, 100, 8192]),
    ("integration", "s_max"): st.floats(0.1, 4.0),
    ("integration", "subpixel"): st.integers(1, 16),
    ("chain", "s_range"): st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 3.0)).map(
        lambda t: sorted(t)),
    ("chain", "s_min"): st.floats(0.01, 1.0),
    ("chain", "s_max"): st.floats(0.1, 3.0),
    ("chain", "b"): st.floats(0.0, 10.0),
    ("chain", "r_max"): st.floats(1.0, 30.0),
    ("chain", "r_step"): st.sampled_from([0.01, 0.05, 0.2]),
    ("navigation", "rebin"): st.integers(1, 5),
    ("mapping", "n_components"): st.sampled_from([0, 2, 3, 16, 17]),
    ("mapping", "r_range"): st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 10.0)).map(
        lambda t: sorted(t)),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional=in_range))
def test_plan_of_random_valid_configs(lazy_scan, values):
    # a configuration that fits the scan (test_base_config_fits_the_scan), with random
    # in-range values replacing its own
    raw = base_config()
    for (section, key), value in values.items():
        raw.setdefault(section, {})[key] = list(value) if isinstance(value, list) else value
    try:
        cfg = batch.load_config(raw)
    except batch.ConfigError:
        return
    with ComputeCounter() as counter:
        try:
            steps = batch.plan(lazy_scan, cfg)
        except batch.ConfigError as err:
            assert "'" in str(err) or "scan" in str(err), str(err)
        else:
            assert len(steps) == 8
    assert counter.runs == 0


def test_tomli_fallback_on_python_310(tmp_path):
    """Without ``tomllib`` (Python 3.10) the configuration is read with ``tomli``."""
    pytest.importorskip("tomli")
    config = tmp_path / "config.toml"
    config.write_text('[chain]\ncomposition = "SiO2"\nb = 0.5\n')
    code = (
        "import sys; sys.modules['tomllib'] = None\n"  # what Python 3.10 has
        "from pyxem_epdf import batch\n"
        "assert batch.tomllib.__name__ == 'tomli'\n"
        f"print(batch.load_config({str(config)!r})['chain']['b'])\n"
    )
    env_path = str(Path(epdf.__file__).parents[1])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": env_path, "PATH": ""}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0.5"


@pytest.mark.parametrize("module", ["batch.py", "cli.py", "__main__.py"])
def test_modules_parse_as_python_310(module):
    source = (Path(epdf.__file__).parent / module).read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 10))
    # tomllib (3.11+) only behind the ImportError fallback
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)
               and any(alias.name == "tomllib" for alias in node.names)]
    for node in imports:
        guarded = any(isinstance(parent, ast.Try) and node in ast.walk(parent)
                      for parent in ast.walk(tree))
        assert guarded, f"{module}: unguarded 'import tomllib' at line {node.lineno}"
