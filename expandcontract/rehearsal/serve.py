"""Serve one release of the reference app on a loopback port (run as a subprocess).

``python -m expandcontract.rehearsal.serve PORT_FILE`` with ``APP_VERSION`` and ``DATABASE_URL``
in the environment. It binds port 0, writes the port it got to ``PORT_FILE`` (so parallel runs
never collide) and serves until SIGTERM or SIGINT, then exits quietly.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m expandcontract.rehearsal.serve PORT_FILE", file=sys.stderr)
        return 2
    from werkzeug.serving import make_server

    from app import create_app

    # Request lines would cost CPU the rehearsal needs for load; the app still logs errors.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.daemon_threads = True

    def stop(signum: int, _frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever, so it must run on another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port_file = Path(argv[0])
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_port), encoding="utf-8")
    os.replace(tmp, port_file)  # atomic: the parent never reads a half-written port
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
