"""Shared plumbing of the signal classes: axes, laziness, outputs, metadata.

No numerics here: the maths lives in :mod:`pyxem_epdf.physics`. These helpers
implement the method contract of the style guide (``inplace=False`` by
default, ``lazy_output``, history in ``metadata.ePDF.history``).
"""

import contextlib
import copy
import functools
import gc
import logging

import numpy as np
from hyperspy.axes import UniformDataAxis
from hyperspy.misc.utils import DictionaryTreeBrowser, slugify

from ..physics.units import s_unit_factor

_logger = logging.getLogger(__name__)


#: Appended to the docstrings of our lazy classes.
LAZY_DOC = """
    ``compute()`` also computes every lazy map stored in ``metadata.ePDF`` (fit
    maps, polynomial coefficients, variance …) in the same dask pass, so
    plotting or saving them afterwards re-runs nothing.
"""


def pyxem_only(cls, name, ours):
    """Message of an inherited pyxem method that is refused in favour of ours."""
    return (
        f"{cls}.{name} is pyxem's in-place method (changes the data, returns None, leaves no "
        f"record in metadata.ePDF.history); use {ours} instead: it returns a new signal "
        "(inplace=False) and records its parameters."
    )


def is_dask(x):
    """True for a dask array."""
    return hasattr(x, "dask")


def check_contract(inplace, lazy_output):
    """Validate the (inplace, lazy_output) pair of a processing method."""
    if inplace and lazy_output:
        raise ValueError("'lazy_output=True' requires 'inplace=False'")


def working_data(signal, lazy_output):
    """The array a method computes on: dask (signal axis in one chunk) for a
    lazy result, NumPy otherwise. Never a copy of eager data."""
    lazy = signal._lazy if lazy_output is None else bool(lazy_output)
    data = signal.data
    if is_dask(data):
        return data.rechunk({data.ndim - 1: -1}), lazy
    if lazy:
        import dask.array as da

        chunks = ("auto",) * (data.ndim - 1) + (-1,)
        return da.from_array(data, chunks=chunks), lazy
    return data, lazy


def working_data_kind(signal, lazy_output):
    """``(None, lazy)``: whether a method's result will be lazy (nothing built)."""
    return None, (signal._lazy if lazy_output is None else bool(lazy_output))


#: Axis units of q = 4π sinθ/λ = 2πs (pyxem's and others' names), refused with advice.
_Q_UNITS = ("q_A^-1", "q_nm^-1", "q_Å^-1", "q_1/A", "q (Å^-1)", "q_A-1")


def s_axis_values(signal):
    """s values of the signal axis in Å⁻¹, checking its calibration.

    Raises
    ------
    ValueError
        If the axis units are not an s unit (e.g. ``"px"``) or the axis is
        non-uniform and uncalibrated.
    """
    axis = signal.axes_manager.signal_axes[0]
    units = axis.units
    if str(units).strip() in _Q_UNITS or str(axis.name).strip().lower() == "q":
        raise ValueError(
            f"The signal axis '{axis.name}' is calibrated in q = 4π sinθ/λ = 2πs (units "
            f"{units!r}); this package works in s = 2 sinθ/λ (Å⁻¹). Divide the axis scale and "
            "offset by 2π (e.g. axis.scale /= 2 * numpy.pi; axis.offset /= 2 * numpy.pi; "
            "axis.units = 'Å^-1'), or convert with pyxem's calibration tools, then retry."
        )
    try:
        factor = s_unit_factor(units)
    except ValueError as err:
        raise ValueError(
            f"The signal axis '{axis.name}' is not calibrated in s = 2 sin(θ)/λ: "
            f"units {units!r}, scale {getattr(axis, 'scale', 'n/a')}. {err}"
        ) from None
    s = np.asarray(axis.axis, dtype=float) * factor
    if s[0] < -1e-9:
        raise ValueError(
            f"The signal axis '{axis.name}' starts at s = {s[0]:g} Å⁻¹ < 0; "
            "an azimuthal profile must start at s >= 0."
        )
    return np.maximum(s, 0.0)


def nav_signal(template, array, title, *, read_only=False):
    """A navigation-shaped map (Signal2D for 2-D scans) of ``array``.

    With ``read_only=True`` the map's NumPy data cannot be written to: result
    maps are shared between the outputs of chain steps (:func:`new_signal`),
    so ``out.metadata.ePDF.fit.N.data[0, 0] = -1`` raises instead of changing
    the map of the step's input too.
    """
    nav_ndim = template.axes_manager.navigation_dimension
    data = array if nav_ndim else array.reshape((1,))
    if not is_dask(data):
        data = np.array(data) if read_only else np.asarray(data)
    out = template._get_navigation_signal(data=data)
    out.metadata.General.title = title
    if read_only and not is_dask(out.data):
        out.data.flags.writeable = False
    return out


def nav_signals(template, maps, *, read_only=False, copy=True):
    """Several navigation-shaped maps of ``template`` at once, as :func:`nav_signal` makes them.

    The navigation axes of ``template`` are read once and passed to the
    constructor already as signal axes: HyperSpy's constructor costs ~1 ms
    per signal (axes and their trait observers), turning navigation axes into
    signal axes afterwards (what ``_get_navigation_signal`` does) another
    ~0.2 ms, and a lazy map built lazy directly saves a second construction
    (``as_lazy``).

    Parameters
    ----------
    template : BaseSignal
        Signal whose navigation axes the maps get.
    maps : dict
        ``{key: (array, title)}``, each array navigation-shaped (NumPy or dask).
    read_only : bool
        As :func:`nav_signal`: NumPy data are copied and made read-only.
    copy : bool
        With ``read_only``: copy the arrays first (``False`` when they are
        fresh arrays nothing else refers to; they are then made read-only).

    Returns
    -------
    dict
        ``{key: signal}`` in the order of ``maps``.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> cube = hs.signals.Signal1D(np.zeros((3, 4, 5)))
    >>> cube.axes_manager[0].scale = 2.0
    >>> m = nav_signals(cube, {"a": (np.ones((3, 4)), "ones")}, read_only=True)["a"]
    >>> ref = nav_signal(cube, np.ones((3, 4)), "ones", read_only=True)
    >>> m.axes_manager._get_axes_dicts() == ref.axes_manager._get_axes_dicts()
    True
    >>> type(m).__name__, m.metadata.General.title, m.data.flags.writeable
    ('Signal2D', 'ones', False)
    """
    nav_ndim = template.axes_manager.navigation_dimension
    if nav_ndim not in (1, 2):
        return {key: nav_signal(template, array, title, read_only=read_only)
                for key, (array, title) in maps.items()}
    from hyperspy import signals

    axes = [dict(d, navigate=False)
            for d in template.axes_manager._get_navigation_axes_dicts()]
    shape = tuple(template.axes_manager._navigation_shape_in_array)
    name = "Signal1D" if nav_ndim == 1 else "Signal2D"
    out = {}
    for key, (array, title) in maps.items():
        lazy = is_dask(array)
        data = array if lazy else (np.array(array) if read_only and copy else np.asarray(array))
        if data.shape != shape:
            raise ValueError(f"map {key!r} has shape {data.shape}; the navigation shape is "
                             f"{shape}.")
        cls = getattr(signals, ("Lazy" if lazy else "") + name)
        sig = cls(data, axes=[dict(d) for d in axes])
        sig.metadata.General.title = title
        if read_only and not lazy:
            sig.data.flags.writeable = False
        out[key] = sig
    return out


class MapRecipe:
    """What a map signal is built from; :meth:`build` builds it once and keeps it.

    ``cls(data, axes=axes)`` with ``cls`` a HyperSpy signal class, the title
    set, the NumPy data made read-only if asked: the same calls as
    :func:`nav_signals`, only later. A recipe shared by several metadata trees
    (the outputs of chain steps, :func:`new_signal`) gives them all the same
    signal object, as sharing the signal itself did.
    """

    def __init__(self, cls, data, axes, title, read_only):
        self.cls, self.data, self.axes = cls, data, axes
        self.title, self.read_only = title, read_only
        self.signal = None
        if read_only:
            data.flags.writeable = False

    def build(self):
        """The signal (built on the first call)."""
        if self.signal is None:
            sig = self.cls(self.data, axes=[dict(d) for d in self.axes])
            sig.metadata.General.title = self.title
            if self.read_only:
                sig.data.flags.writeable = False
            self.signal = sig
        return self.signal


class MapTree(DictionaryTreeBrowser):
    """A metadata node whose map signals are built when first read.

    HyperSpy's constructor costs ~1 ms per signal (axes, trait observers,
    events), so building the 11 fit maps and the coefficient map of
    :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.get_pdf` took ~13 ms
    of the ~20 ms the whole chain of a 48×48 scan takes in plain NumPy.
    A map stored here is kept as a :class:`MapRecipe` (its finished,
    read-only data and its axes) and becomes the signal the first time it
    is read: as an attribute or item (``fit.N``, ``fit["N"]``,
    ``get_item``), by iterating the node, printing it, searching it,
    :meth:`as_dictionary` (so saving to ``.hspy``/``.zspy`` and HyperSpy's
    ``deepcopy`` of the signal see ordinary signals) or copying the node
    (the copy is a plain ``DictionaryTreeBrowser``). Each map is built on its
    own and then stored in place of its recipe: every map is an independent
    signal, as before (an in-place ``crop`` of one leaves the others
    untouched), and reading it twice gives the same object.

    Everything else is HyperSpy's
    :class:`~hyperspy.misc.utils.DictionaryTreeBrowser`, whose class name it
    keeps (``type(node).__name__ == "DictionaryTreeBrowser"``), so code that
    recognises metadata nodes by that name still walks into it.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> cube = hs.signals.Signal1D(np.zeros((3, 4, 5)))
    >>> node = deferred_nav_signals(cube, {"a": (np.ones((3, 4)), "ones")})
    >>> type(node).__name__, isinstance(node, MapTree), node.has_item("a"), node.pending()
    ('DictionaryTreeBrowser', True, True, ['a'])
    >>> node.a
    <Signal2D, title: ones, dimensions: (|4, 3)>
    >>> node.pending(), node.a is node["a"], node.a.data.flags.writeable
    ([], True, False)
    """

    def __getattribute__(self, name):
        item = super().__getattribute__(name)
        if type(item) is MapRecipe:
            return self._build(name)
        return item

    def _build(self, name):
        """Replace the recipe stored under ``name`` by its signal; return the signal."""
        entries = object.__getattribute__(self, "__dict__")
        entry = entries[_slug(name)]
        if type(entry["_dtb_value_"]) is MapRecipe:
            entry["_dtb_value_"] = entry["_dtb_value_"].build()
        return entry["_dtb_value_"]

    def _holds(self, key):
        """Whether ``key`` is stored here (without building it)."""
        if object.__getattribute__(self, "_lazy_attributes"):
            self.process_lazy_attributes()
        entries = object.__getattribute__(self, "__dict__")
        return _slug(key) in entries or hasattr(self, key)

    def has_item(self, item_path, default=None, full_path=True, wild=False,
                 return_path=False):
        """As HyperSpy's, without building a map whose presence is asked.

        HyperSpy's looks into a child node only if it is of the parent's own
        class; here any ``DictionaryTreeBrowser`` child is searched.
        """
        if not full_path:
            self.build_all()
            return super().has_item(item_path, default, full_path, wild, return_path)
        path = item_path.split(".") if isinstance(item_path, str) else list(item_path)
        head, rest = path[0], path[1:]
        if not self._holds(head):
            return False
        if not rest:
            return True
        item = self[head]
        return isinstance(item, DictionaryTreeBrowser) and item.has_item(rest)

    def get_item(self, item_path, default=None, full_path=True, wild=False,
                 return_path=False):
        """As HyperSpy's (building the map asked for); any child node is searched."""
        if not full_path:
            self.build_all()
            return super().get_item(item_path, default, full_path, wild, return_path)
        path = item_path.split(".") if isinstance(item_path, str) else list(item_path)
        head, rest = path[0], path[1:]
        if not self._holds(head):
            return default
        item = self[head]
        if not rest:
            return item
        if isinstance(item, DictionaryTreeBrowser):
            return item.get_item(rest, default=default)
        return default

    def pending(self):
        """Keys of the maps not built yet (sorted)."""
        return sorted(key for key, value in self.recipes() if type(value) is MapRecipe)

    def build_all(self):
        """Build every map still pending."""
        for key in self.pending():
            self._build(key)

    def recipes(self):
        """``(key, value)`` pairs as stored, recipes not built (insertion order)."""
        return [(v["key"], v["_dtb_value_"]) for v in _entries(self).values()]

    def as_dictionary(self):
        """As HyperSpy's, every map built first."""
        self.build_all()
        return super().as_dictionary()

    def _get_print_items(self, *args, **kwargs):
        self.build_all()
        return super()._get_print_items(*args, **kwargs)

    def _get_html_print_items(self, *args, **kwargs):
        self.build_all()
        return super()._get_html_print_items(*args, **kwargs)

    def _nested_get_iter(self, *args, **kwargs):
        self.build_all()
        return super()._nested_get_iter(*args, **kwargs)

    def __deepcopy__(self, memo):
        self.build_all()
        out = DictionaryTreeBrowser.__new__(DictionaryTreeBrowser)
        state = copy.deepcopy(object.__getattribute__(self, "__dict__"), memo)
        object.__getattribute__(out, "__dict__").update(state)
        return out

    def __copy__(self):
        self.build_all()
        out = DictionaryTreeBrowser.__new__(DictionaryTreeBrowser)
        object.__getattribute__(out, "__dict__").update(object.__getattribute__(self, "__dict__"))
        return out

    def __getstate__(self):
        self.build_all()  # pickled with its signals, not recipes
        return object.__getattribute__(self, "__dict__")


MapTree.__name__ = "DictionaryTreeBrowser"  # HyperSpy's name (see the class docstring)

@functools.lru_cache(maxsize=4096)
def _slug(key):
    """HyperSpy's attribute name of a metadata key (``slugify``, ~5 µs), memoised."""
    return str(slugify(key, valid_variable_name=True))


def _put(tree, key, value):
    """``tree._setattr(key, value)`` for a value that is not a dict: the entry as
    HyperSpy stores it, without slugifying the key again."""
    if isinstance(value, dict) or key in ("_double_lines", "_lazy_attributes") \
            or key.startswith("_sig_"):
        tree._setattr(key, value)
    else:
        object.__getattribute__(tree, "__dict__")[_slug(key)] = {"key": key,
                                                                  "_dtb_value_": value}


def map_tree(items=(), *, base=None):
    """A :class:`MapTree` holding ``items`` (``(key, value)``, values may be recipes).

    With ``base`` (an existing metadata node), its entries come first, as
    :meth:`~hyperspy.misc.utils.DictionaryTreeBrowser.set_item` into that node would
    keep them; recipes of a ``base`` that is a :class:`MapTree` stay unbuilt.
    """
    tree = MapTree(lazy=False)
    if base is not None:
        for entry in _entries(base).values():
            _put(tree, entry["key"], entry["_dtb_value_"])
    for key, value in items:
        _put(tree, key, value)
    return tree


def lookup(node, path, default=None):
    """``node.get_item(path, default)`` in one walk down the tree.

    HyperSpy's ``get_item`` walks the path twice (``has_item``, then the
    items) and slugifies every key on both walks (~15–20 µs for a two-level
    path); this reads each level once by attribute. A map recipe on the
    path is built, as ``get_item`` builds it.

    Examples
    --------
    >>> md = DictionaryTreeBrowser({"ePDF": {"integration": {"n_valid": [1, 2]}}})
    >>> lookup(md, "ePDF.integration.n_valid"), lookup(md, "ePDF.fit", "none")
    ([1, 2], 'none')
    >>> lookup(md, "ePDF.integration.n_valid.x", "leaf"), lookup(md, "ePDF").has_item("integration")
    ('leaf', True)
    """
    for key in path.split("."):
        if not isinstance(node, DictionaryTreeBrowser):
            return default
        if object.__getattribute__(node, "_lazy_attributes"):
            node.process_lazy_attributes()
        entry = object.__getattribute__(node, "__dict__").get(_slug(key))
        if not (isinstance(entry, dict) and "_dtb_value_" in entry):
            return default
        parent, node = node, entry["_dtb_value_"]
        if type(node) is MapRecipe:
            node = parent._build(key)
    return node


def stored(node, key, default=None):
    """The value stored under ``key`` in a metadata node, a map recipe not built."""
    entry = _entries(node).get(_slug(key))
    return default if entry is None else entry["_dtb_value_"]


def set_navigator(signal, navigator):
    """``signal.navigator = navigator``; a :class:`MapRecipe` stays unbuilt until read.

    The navigator is then kept in a :class:`MapTree` ``metadata._HyperSpy``
    node, so ``signal.navigator`` builds the same signal as the other
    metadata entries sharing the recipe (``pdf.navigator is
    pdf.metadata.ePDF.fit.N``).
    """
    if not isinstance(navigator, MapRecipe):
        signal.navigator = navigator
        return
    md = signal.metadata
    md._HyperSpy = map_tree([("navigator", navigator)], base=md.get_item("_HyperSpy", None))


def deferred_nav_signals(template, maps, *, read_only=True, base=None, extra=()):
    """The maps of :func:`nav_signals` in a :class:`MapTree`, built when first read.

    Parameters
    ----------
    template, maps, read_only
        As :func:`nav_signals`; the NumPy arrays are taken as they are (no
        copy) and made read-only when their map is built. Dask arrays, and
        navigation other than 1-D or 2-D, are built at once (the lazy
        twins' ``compute`` and ``save`` walk the lazy maps anyway).
    base : DictionaryTreeBrowser, optional
        Existing node whose entries the tree starts with (see :func:`map_tree`).
    extra : iterable of (str, object)
        Further entries (scalars, lists …) stored after the maps.

    Returns
    -------
    MapTree
    """
    nav_ndim = template.axes_manager.navigation_dimension
    deferred = {k: v for k, v in maps.items() if not is_dask(v[0])} if nav_ndim in (1, 2) else {}
    built = nav_signals(template, {k: v for k, v in maps.items() if k not in deferred},
                        read_only=read_only, copy=False)
    items = []
    if deferred:
        from hyperspy import signals

        axes = [dict(d, navigate=False)
                for d in template.axes_manager._get_navigation_axes_dicts()]
        shape = tuple(template.axes_manager._navigation_shape_in_array)
        cls = getattr(signals, "Signal1D" if nav_ndim == 1 else "Signal2D")
    for key, (array, title) in maps.items():
        if key in built:
            items.append((key, built[key]))
            continue
        data = np.asarray(array)
        if data.shape != shape:
            raise ValueError(f"map {key!r} has shape {data.shape}; the navigation shape is "
                             f"{shape}.")
        items.append((key, MapRecipe(cls, data, axes, title, read_only)))
    return map_tree(items + list(extra), base=base)


def copy_axes(sources, targets):
    """Copy name, units, scale and offset axis by axis (e.g. navigation → signal axes)."""
    for src, dst in zip(sources, targets, strict=True):
        dst.name, dst.units = src.name, src.units
        dst.scale, dst.offset = src.scale, src.offset


def copy_nav_axes(template, target):
    """Give ``target`` the navigation-axis calibration of ``template``."""
    copy_axes(template.axes_manager.navigation_axes, target.axes_manager.navigation_axes)


def as_numpy(data):
    """Float NumPy array of (possibly dask) data; computes dask arrays."""
    return np.asarray(data.compute() if hasattr(data, "compute") else data, dtype=float)


def _entries(tree):
    """The ``{slug: {"key", "_dtb_value_"}}`` entries of a metadata node, as stored."""
    tree.process_lazy_attributes()
    return {slug: entry for slug, entry in object.__getattribute__(tree, "__dict__").items()
            if slug not in _PRIVATE and isinstance(entry, dict) and "_dtb_value_" in entry}


#: Attributes of a DictionaryTreeBrowser that are not entries.
_PRIVATE = ("_lazy_attributes", "_double_lines", "_db_index")


def _share_tree(tree):
    """Copy of a metadata tree whose signal leaves (and map recipes) are shared,
    other leaves deep-copied.

    The entries are copied as stored (key, value), not through
    ``DictionaryTreeBrowser.__setattr__``: setting the ~50 leaves of a
    chain's history one by one cost ~1.5 ms per step.
    """
    from hyperspy.signal import BaseSignal

    cls = MapTree if isinstance(tree, MapTree) else DictionaryTreeBrowser
    out = cls(lazy=False, double_lines=tree._double_lines)
    target = object.__getattribute__(out, "__dict__")
    for slug, entry in _entries(tree).items():
        value = entry["_dtb_value_"]
        if isinstance(value, DictionaryTreeBrowser):
            value = _share_tree(value)
        elif not isinstance(value, (BaseSignal, MapRecipe)):
            value = _copied(value)  # copy.deepcopy, faster for plain lists
        target[slug] = {"key": entry["key"], "_dtb_value_": value}
    return out


def new_signal(signal, data):
    """``signal._deepcopy_with_new_data(data)`` sharing the maps in ``metadata.ePDF``.

    The result maps a chain step stores (N, C, polynomial coefficients …) are
    never changed in place by later steps, so every step's output refers to
    the same map signals instead of re-creating them (which cost ~35 ms per
    step and map set); everything else is deep-copied as before.
    """
    md = signal.metadata
    if not md.has_item("ePDF"):
        return signal._deepcopy_with_new_data(data)
    tree = md.ePDF
    del md.ePDF
    try:
        out = signal._deepcopy_with_new_data(data)
    finally:
        md.ePDF = tree
    out.metadata.ePDF = _share_tree(tree)
    return out


def new_signal_as(signal, data, signal_axis, signal_type):
    """:func:`new_signal` with a new signal axis and signal type, built in one go.

    The same signal as ``new_signal(signal, data)`` followed by
    :func:`set_signal_axis` and ``set_signal_type(signal_type)`` (tested),
    without building the copy of the input's axes, a second signal axis and
    two class changes: ~1.5 ms less per call. It is HyperSpy's
    ``_deepcopy_with_new_data`` (variance, navigator, learning results and
    models not copied; other metadata deep-copied, its signals rebuilt from
    their dictionaries) with the class and axes of the result. Lazy data, a
    signal dimension other than 1 and markers in the metadata take the
    step-by-step route.

    Parameters
    ----------
    signal : BaseSignal
        The input (one signal axis).
    data : numpy.ndarray or dask.array.Array
        The new data: the input's navigation shape + ``(signal_axis["size"],)``.
    signal_axis : dict
        ``name, units, offset, scale, size`` of the new uniform signal axis.
    signal_type : str
        Signal type of the result.

    Returns
    -------
    BaseSignal
        Of the class HyperSpy assigns to ``signal_type``.
    """
    md = signal.metadata
    if (is_dask(data) or signal.axes_manager.signal_dimension != 1
            or signal.axes_manager._ragged or md.has_item("Markers")):
        out = new_signal(signal, data)
        out._lazy = is_dask(data)
        out.get_dimensions_from_data()
        out._assign_subclass()
        set_signal_axis(out, **signal_axis)
        out.set_signal_type(signal_type)
        return out
    from hyperspy.io import assign_signal_subclass

    metadata = _plain_dict(md, _NOT_COPIED)
    if metadata is None:  # signals, axes … in the metadata: HyperSpy's own export
        removed = []
        for path in (".".join(p) for p in _NOT_COPIED):
            if md.has_item(path):
                parent, _, key = path.rpartition(".")
                node = md.get_item(parent) if parent else md
                removed.append((node, key, node[key]))
                delattr(node, key)
        try:
            metadata = copy.deepcopy(md.as_dictionary())
        finally:
            for node, key, value in reversed(removed):
                setattr(node, key, value)
    metadata.setdefault("Signal", {})["signal_type"] = signal_type
    axes = signal.axes_manager._get_axes_dicts()
    axes[-1] = {"_type": "UniformDataAxis", "navigate": False, **signal_axis}
    cls = assign_signal_subclass(dtype=data.dtype, signal_dimension=1,
                                 signal_type=signal_type, lazy=False)
    out = cls(data, axes=axes, metadata=metadata,
              original_metadata=copy.deepcopy(signal.original_metadata.as_dictionary()))
    if md.has_item("ePDF"):
        out.metadata.ePDF = _share_tree(md.ePDF)
    return out


#: Metadata :func:`new_signal_as` does not copy (``metadata.ePDF`` is shared by
#: :func:`_share_tree`; variance and navigator are not copied, as by HyperSpy's
#: ``_deepcopy_with_new_data``).
_NOT_COPIED = (("ePDF",), ("Signal", "Noise_properties"), ("_HyperSpy", "navigator"))

#: Marks a value :func:`_plain_dict` does not export itself.
_NOT_PLAIN = object()


def _plain_dict(node, skip=()):
    """``copy.deepcopy(node.as_dictionary())`` without the entries at the key
    paths ``skip``, for a tree of plain values (numbers, strings, arrays,
    lists, tuples, dicts); ``None`` if the tree holds anything else
    (signals, axes, map recipes …: HyperSpy's ``as_dictionary`` turns those
    into dictionaries of its own) or a path of ``skip`` runs through a node
    not processed yet.

    About 4× faster than the export it replaces (the ~25 metadata leaves of
    a scan: ~30 µs instead of ~120 µs, removing and restoring the skipped
    entries included).

    Examples
    --------
    >>> tree = {"A": {"x": [1, 2], "y": "s"}, "B": {"z": 1.0}}
    >>> md = DictionaryTreeBrowser(tree, lazy=False)
    >>> _plain_dict(md, (("B",), ("A", "y")))
    {'A': {'x': [1, 2]}}
    >>> _plain_dict(md) == copy.deepcopy(md.as_dictionary())
    True
    >>> _plain_dict(DictionaryTreeBrowser(tree), (("B",),)) is None  # not processed yet
    True
    """
    pending = object.__getattribute__(node, "_lazy_attributes")
    if pending:
        return None if skip else copy.deepcopy(pending)
    out = {}
    for slug, entry in object.__getattribute__(node, "__dict__").items():
        if slug in _PRIVATE or not isinstance(entry, dict) or "_dtb_value_" not in entry:
            continue
        key, value = entry["key"], entry["_dtb_value_"]
        below = tuple(p[1:] for p in skip if p[0] == key)
        if () in below:
            continue
        if isinstance(value, DictionaryTreeBrowser):
            value = _plain_dict(value, below)
            if value is None:
                return None
        else:
            value = _plain_value(value)
            if value is _NOT_PLAIN:
                return None
        out[key] = value
    return out


def _plain_value(value):
    """A deep copy of a plain value (numbers, strings, arrays and lists, tuples
    and dicts of them), else :data:`_NOT_PLAIN`; equal to ``copy.deepcopy``."""
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is tuple and all(type(v) in _ATOMIC for v in value):
        return value  # deepcopy returns a tuple of atoms itself
    if kind is dict:
        items = {k: _plain_value(v) for k, v in value.items()}
        return _NOT_PLAIN if any(v is _NOT_PLAIN for v in items.values()) else items
    if kind is list or kind is tuple:
        items = [_plain_value(v) for v in value]
        if any(v is _NOT_PLAIN for v in items):
            return _NOT_PLAIN
        return items if kind is list else tuple(items)
    if kind is np.ndarray or isinstance(value, np.generic):
        return copy.deepcopy(value)
    return _NOT_PLAIN


def finish(signal, data, *, inplace, lazy, title, method, parameters, update=None,
           show_progressbar=None, signal_axis=None, signal_type=None):
    """Return a new signal (or update ``signal`` in place) holding ``data``.

    Parameters
    ----------
    signal : BaseSignal
        The input signal (template for axes and metadata).
    data : numpy.ndarray or dask.array.Array
        The result, with the same navigation axes.
    inplace : bool
        Overwrite ``signal`` and return ``None``.
    lazy : bool
        Whether the result stays lazy (else dask results are computed).
    title : str
        New title.
    method : str
        Name recorded in ``metadata.ePDF.history``.
    parameters : dict
        Every processing parameter, recorded in ``metadata.ePDF.history``.
    update : callable, optional
        ``update(out)`` sets further metadata on the output.
    show_progressbar : bool, optional
        Progress bar when a lazy result is computed here.
    signal_axis : dict, optional
        With ``signal_type`` and ``inplace=False``: the result gets this new
        signal axis and signal type (:func:`new_signal_as`).
    signal_type : str, optional
        See ``signal_axis``.
    """
    if inplace and signal_axis is not None:
        raise ValueError("'signal_axis' needs inplace=False")
    if is_dask(data) and not lazy:
        data = compute(data, show_progressbar=show_progressbar)
    with paused_gc():
        if inplace:
            out = signal
            out.data = data
        elif signal_axis is not None:
            out = new_signal_as(signal, data, signal_axis, signal_type)
        else:
            out = new_signal(signal, data)
        if signal_axis is None or inplace:
            out._lazy = is_dask(data)
            out.get_dimensions_from_data()
            out._assign_subclass()
        out.metadata.General.title = title
        record(out, method, parameters)
        if update is not None:
            update(out)
    return None if inplace else out


@contextlib.contextmanager
def paused_gc():
    """Pause Python's cyclic garbage collector while signals are built; restore it after.

    A HyperSpy signal is ~10⁴ small container objects (axes, trait observers,
    events, metadata nodes), so building the output of a method and its maps
    (13 signals for :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.get_pdf`)
    triggers ~20 young-generation collections, and every ~10th of those an
    older one that walks all ~4·10⁵ objects of a HyperSpy + pyxem session.
    With the collector paused for the few milliseconds this takes, the same
    objects are examined by one young collection afterwards, and the full
    collections become rarer in proportion. Nothing is leaked: reference
    counting frees as usual, and cyclic garbage waits for the next collection.
    A collector the caller disabled stays disabled.

    Examples
    --------
    >>> import gc
    >>> with paused_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def record(signal, method, parameters):
    """Append ``{method, parameters}`` to ``metadata.ePDF.history``."""
    record_steps(signal, [(method, parameters)])


def record_steps(signal, steps):
    """Append every ``(method, parameters)`` of ``steps`` to ``metadata.ePDF.history``.

    Each step is stored as a lazy ``DictionaryTreeBrowser`` (HyperSpy's
    default for metadata read from files): its nodes are made when it is
    first read, printed or copied, not here (~0.1 ms per step and call).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperspy.api as hs
    >>> sig = hs.signals.Signal1D(np.zeros(3))
    >>> record_steps(sig, [("a", {"x": 1}), ("b", {"y": (2, 3), "z": None})])
    >>> sig.metadata.ePDF.history.step_01.parameters.as_dictionary()
    {'y': [2, 3], 'z': 'None'}
    """
    md = signal.metadata
    history = lookup(md, "ePDF.history")
    if history is None:
        md.add_node("ePDF.history")
        history = md.get_item("ePDF.history")
    n = len(history)
    for i, (method, parameters) in enumerate(steps):
        clean = {k: _plain(v) for k, v in parameters.items()}
        step = DictionaryTreeBrowser({"method": method, "parameters": _copied(clean)},
                                     lazy=True)
        setattr(history, f"step_{n + i:02d}", step)


#: Values ``copy.deepcopy`` returns as they are.
_ATOMIC = (type(None), bool, int, float, complex, str, bytes)


def _copied(value):
    """``copy.deepcopy(value)``, plain values copied by :func:`_plain_value`
    (~1 µs instead of ~10 µs for a step's parameters); anything else by
    ``copy.deepcopy``.

    Examples
    --------
    >>> d = {"a": [1.0, (2, "x")], "b": {"c": None}}
    >>> out = _copied(d)
    >>> out == copy.deepcopy(d), out["a"] is d["a"], out["a"][1] is d["a"][1]
    (True, False, True)
    """
    out = _plain_value(value)
    return copy.deepcopy(value) if out is _NOT_PLAIN else out


def _plain(value):
    """Metadata-friendly version of a parameter value."""
    if value is None:
        return "None"
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


@contextlib.contextmanager
def one_blas_thread_per_task():
    """Run BLAS on one thread while dask computes blocks on its own threads.

    With dask's threaded scheduler each worker thread computes its own block;
    if every block's matrix product also starts OpenBLAS's threads, they
    compete with the other blocks for the same cores (measured on 2 cores:
    the integration of a 4 GB scan took 40 % longer next to the chain's
    per-block products, 8.3 s → 10.5 s end to end). The limit is set with
    threadpoolctl for the duration of the computation and restored after;
    processes of a ``dask.distributed`` cluster are not affected.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with one_blas_thread_per_task():
    ...     print({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
    {1}
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


class LazyComputeMixin:
    """``compute()`` of our lazy signal classes: HyperSpy's, with BLAS on one
    thread per dask task (:func:`one_blas_thread_per_task`). The arguments are
    those of :meth:`hyperspy.signal.BaseSignal.compute`.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> lazy = epdf.data.example_pdf().as_lazy()
    >>> isinstance(lazy, LazyComputeMixin)
    True
    >>> lazy.compute(show_progressbar=False)
    >>> type(lazy).__name__
    'PDF1DPlus'
    """

    def compute(self, close_file=False, show_progressbar=None, **kwargs):
        """Compute this signal and the lazy maps in its metadata in one dask pass.

        As :meth:`hyperspy.signal.BaseSignal.compute`, plus: the lazy maps in
        ``metadata.ePDF`` (fit maps, polynomial coefficients, the variance …)
        share the graph of the data, so they are computed together
        (:func:`compute_all`) and become eager signals; plotting or saving
        them afterwards re-runs nothing.

        Parameters
        ----------
        close_file : bool
            As HyperSpy's ``compute``.
        show_progressbar : bool, optional
            Progress bar (HyperSpy's preference by default).
        **kwargs
            Passed to dask's ``compute`` when there are no metadata maps.

        Returns
        -------
        None
        """
        maps = [s for s in _lazy_signals(self) if s is not self]
        if maps and is_dask(self.data) and not kwargs:
            values = compute(self.data, *[m.data for m in maps],
                             show_progressbar=show_progressbar)
            for m, v in zip(maps, values[1:], strict=True):
                m.data, m._lazy = v, False
                m._assign_subclass()
            self.data = values[0]
            if close_file:
                self.close_file()
            self._lazy = False
            self._assign_subclass()
            warn_invalid_maps(self)
            return None
        with one_blas_thread_per_task():
            return super().compute(close_file=close_file, show_progressbar=show_progressbar,
                                   **kwargs)

    def save(self, *args, **kwargs):
        """HyperSpy's ``save``, computing the lazy metadata maps first in one dask pass.

        Otherwise HyperSpy would compute each lazy map in ``metadata.ePDF``
        (fit maps, coefficients, variance) on its own, re-running the whole
        chain once per map; here they take one pass, the data (streamed to
        the file) a second. The arguments are those of
        :meth:`hyperspy.signal.BaseSignal.save`.

        Parameters
        ----------
        *args, **kwargs
            Passed to HyperSpy's ``save``.

        Returns
        -------
        None
        """
        maps = [s for s in _lazy_signals(self) if s is not self]
        if maps:
            values = compute(*[m.data for m in maps], show_progressbar=False)
            values = values if len(maps) > 1 else (values,)
            for m, v in zip(maps, values, strict=True):
                m.data, m._lazy = v, False
                m._assign_subclass()
        with one_blas_thread_per_task():
            return super().save(*args, **kwargs)


def warn_invalid_maps(signal):
    """After a lazy fit is computed: the warnings an eager fit gives at once.

    Counts the patterns of ``metadata.ePDF.fit`` that are non-finite, have
    N <= 0 or are fit-quality outliers, one warning per cause.
    """
    import warnings

    fit = signal.metadata.get_item("ePDF.fit", None)
    if fit is None:
        return
    maps = {k: fit.get_item(k, None) for k in ("finite", "N", "outlier", "valid")}
    if any(m is None or is_dask(m.data) for m in maps.values()):
        return
    finite = np.asarray(maps["finite"].data, bool)
    total = finite.size
    causes = [
        (~finite, "contain NaN or inf in I(s): their φ(s) and G(r) are 0"),
        (finite & ~(np.asarray(maps["N"].data) > 0),
         "have N <= 0 in the fit window (no, negative or only structureless counts): their "
         "φ(s) and G(r) are 0"),
        (np.asarray(maps["outlier"].data, bool),
         "are fit-quality outliers (robust z of log N or log χ² against the scan, "
         "metadata.ePDF.fit.z_N / z_chi2): decompositions skip them"),
    ]
    for mask, text in causes:
        n = int(np.count_nonzero(mask))
        if n:
            warnings.warn(f"{n} of {total} patterns {text} (valid = False, "
                          "metadata.ePDF.fit.valid).", UserWarning, stacklevel=3)


def compute(*arrays, show_progressbar=None):
    """Compute dask arrays in one pass (shared work done once), with a progress bar.

    Returns the single result for one array, a tuple otherwise.
    """
    import dask
    from hyperspy.defaults_parser import preferences

    if show_progressbar is None:
        show_progressbar = preferences.General.show_progressbar
    run = _store if _local_scheduler() and all(_storable(a) for a in arrays) else dask.compute
    with one_blas_thread_per_task():
        if show_progressbar:
            from dask.diagnostics import ProgressBar

            with ProgressBar():
                out = run(*arrays)
        else:
            out = run(*arrays)
    return out[0] if len(out) == 1 else out


def _local_scheduler():
    """True if dask computes in this process (threads or synchronous), not on a cluster."""
    import dask.local
    import dask.threaded
    from dask.base import get_scheduler

    return get_scheduler() in (None, dask.threaded.get, dask.local.get_sync)


def _storable(array):
    """A dask array of known shape with at least one dimension (``da.store`` can fill it)."""
    return (hasattr(array, "dask") and array.ndim >= 1
            and all(np.isfinite(n) for n in array.shape) and array.dtype != object)


def _store(*arrays):
    """``dask.compute(*arrays)`` written block by block into preallocated arrays.

    ``dask.compute`` keeps every block until it concatenates them at the end:
    twice the result's size at the peak (2.1 GB for the 1.05 GB PDF cube of a
    256×256 scan). ``da.store`` writes each block into its place as soon as it
    is computed (one graph, shared work done once, as ``dask.compute``); the
    values are the same blocks, so the result is bit-identical.
    """
    import dask.array as da

    targets = [np.empty(a.shape, dtype=a.dtype) for a in arrays]
    da.store(list(arrays), targets, lock=False)
    return tuple(targets)


def _lazy_signals(signal):
    """The signal and every lazy signal stored in its metadata (recursively)."""
    from hyperspy.signal import BaseSignal

    found = [signal] if signal._lazy else []

    def walk(node):
        for _, value in (node.recipes() if isinstance(node, MapTree) else node):
            if isinstance(value, MapRecipe):  # NumPy data, built when read
                continue
            if isinstance(value, BaseSignal):
                if value._lazy:
                    found.append(value)
                walk(value.metadata)
            elif isinstance(value, DictionaryTreeBrowser):
                walk(value)

    walk(signal.metadata)
    return found


def compute_all(*signals, show_progressbar=None):
    """Compute lazy signals and the lazy maps in their metadata in one dask pass.

    Computing a lazy PDF cube and then (e.g. when saving) each of its lazy
    metadata maps (N, C, polynomial coefficients, variance …) separately would
    re-run the whole graph — the integration of the raw scan included — once
    per map. This evaluates all of them together, so shared work is done
    once, and turns them into eager signals in place.

    Parameters
    ----------
    *signals : BaseSignal
        Signals to compute (their metadata maps are found automatically).
    show_progressbar : bool, optional
        Dask progress bar (default: HyperSpy's preference).

    Returns
    -------
    None

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(4, 4), detector_shape=(64, 64),
    ...                                       s_scale=0.08, lazy=True)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=32, s_max=2.5)
    >>> pdf = ri.fit_scattering(synth.phases[0].composition, (1.6, 2.5)).to_pdf(r_max=10.0)
    >>> type(pdf).__name__, type(pdf.metadata.ePDF.fit.N).__name__
    ('LazyPDF1DPlus', 'LazySignal2D')
    >>> compute_all(pdf, show_progressbar=False)  # one dask pass for both
    >>> type(pdf).__name__, type(pdf.metadata.ePDF.fit.N).__name__
    ('PDF1DPlus', 'Signal2D')
    >>> pdf.data.shape, pdf.metadata.ePDF.fit.N.data.shape
    ((4, 4, 1001), (4, 4))
    """
    targets = []
    for sig in signals:
        for s in _lazy_signals(sig):
            if all(s is not t for t in targets):
                targets.append(s)
    if not targets:
        return
    results = compute(*[s.data for s in targets], show_progressbar=show_progressbar)
    if len(targets) == 1:
        results = (results,)
    for s, value in zip(targets, results, strict=True):
        s.data = value
        s._lazy = False
        s._assign_subclass()


def set_signal_axis(signal, name, units, offset, scale, size):
    """Replace the signal axis by a uniform one (used when the axis changes)."""
    axis = UniformDataAxis(
        name=name, units=units, offset=offset, scale=scale, size=size, navigate=False
    )
    signal.axes_manager.set_axis(axis, -1)
