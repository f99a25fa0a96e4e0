"""gunicorn settings for a rehearsal release (``-c python:expandcontract.rehearsal.gunicorn_conf``).

The container serves the app with gunicorn too; here it listens on a socket the rehearsal
bound (``--bind fd://N``) and exits when the rehearsal that started it is gone, even if that
process was killed with -9 and could not clean up.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

worker_class = "gthread"
# Import the app once and fork: half the start-up CPU, which on one machine is taken from blue
# while it serves all the traffic (in production green boots on other hosts). Safe: the app
# opens no database connection until the first request.
preload_app = True
workers = 2
threads = 8
graceful_timeout = 5
# A starved machine can delay a worker's heartbeat; a killed worker would fail its requests.
timeout = 120
# Keep idle connections open longer than the router keeps them (as behind an ALB, whose idle
# timeout must be shorter than the app's keep-alive): otherwise the app may close one just as
# the router sends a request on it, and that request fails with a 502.
keepalive = 75
accesslog = None
loglevel = "warning"


def when_ready(server: Any) -> None:
    parent = int(os.environ.get("EXPANDCONTRACT_REHEARSAL_PID", "0")) or os.getppid()

    def watch() -> None:
        while _alive(parent):
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="rehearsal-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
