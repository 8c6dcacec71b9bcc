"""examples/quickstart.ipynb runs top to bottom in a fresh kernel (nbclient).

The notebook is stored without outputs; here it is executed as a user would,
in an empty working directory, and its figures and printed results are checked.
"""

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "quickstart.ipynb"
KERNEL = "pyxem-epdf-tests"


def test_the_stored_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_the_notebook_follows_the_readme_route():
    source = "\n".join(c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells)
    for call in ("epdf.signals.descan(dp)", "epdf.azimuthal_profile(dp, beam_shift=shifts)",
                 "ri.get_pdf(composition)", "pdf.decompose()", "dec.unmix()",
                 "interactive_region_pdf(ri, roi, chain)"):
        assert call in source, call


def _kernel_of_this_interpreter(root, monkeypatch):
    """A kernel spec running this Python (not whatever ``python3`` spec the machine has)."""
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "pyxem-epdf tests", "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(root))


@pytest.mark.slow
def test_quickstart_notebook_executes(tmp_path, monkeypatch):
    pytest.importorskip("ipykernel")
    _kernel_of_this_interpreter(tmp_path / "jupyter", monkeypatch)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError naming the cell on any exception
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})
              or "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(images) >= 6, len(images)  # residual, G(r) + navigator, N, scree, maps + PDFs …
    text = "".join(o.get("text", "") + "".join(o.get("data", {}).get("text/plain", ""))
                   for o in outputs)
    assert "'get_pdf'" in text or "fit_scattering" in text  # the recorded history
    assert re.search(r"r1 \(Å\)", text)  # the peak table
    # no warning from our own code (third-party import-time deprecations aside)
    stderr = "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stderr")
    ours = re.findall(r"pyxem_epdf/\S*\.py:\d+: \w*Warning.*", stderr)
    assert ours == [], ours
    assert (work / "scan.zspy").exists()
