"""A throwaway PostgreSQL server for laptops and CI machines that have none.

Backed by the ``pgserver`` package (PostgreSQL binaries on PyPI, works as root too). Install
with the ``embedded`` extra.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from expandcontract.errors import ConfigurationError
from expandcontract.runtime.connect import normalise_url


@contextmanager
def embedded_postgres(data_dir: str | Path | None = None) -> Iterator[str]:
    """Start a PostgreSQL server in a temporary directory; yield its SQLAlchemy URL.

    The server stops and its files are deleted when the block ends.
    """
    try:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for XDG_RUNTIME_DIR, which containers often lack.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as err:
        raise ConfigurationError(
            "no database URL given and the embedded server is not installed: "
            "pip install 'expandcontract[embedded]' or pass a database URL"
        ) from err
    owned = data_dir is None
    folder = Path(data_dir or tempfile.mkdtemp(prefix="expandcontract-pg-"))
    server = None
    try:
        server = pgserver.get_server(folder, cleanup_mode="delete" if owned else "stop")
        yield normalise_url(server.get_uri())
    finally:
        # Also when the start itself failed or was interrupted: no folder is left behind.
        if server is not None:
            server.cleanup()
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
