"""``python -m pyxem_epdf`` runs the ``pyxem-epdf`` command line."""

from .cli import main

raise SystemExit(main())
