#!/usr/bin/env python3
"""Container health probe: healthy only when the local app answers GET /health with 200 and
``"status": "healthy"`` (the app answers 503 when the live schema cannot serve this release)."""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    """Return the exit status Docker/ECS read: 0 healthy, 1 unhealthy."""
    url = (
        os.environ.get("HEALTHCHECK_URL")
        or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health"
    )
    try:
        with urllib.request.urlopen(url, timeout=4) as resp:  # noqa: S310 - local URL
            body = json.loads(resp.read() or b"{}")
    except (OSError, ValueError) as err:
        print(f"unhealthy: {url}: {err}", file=sys.stderr)
        return 1
    if not isinstance(body, dict) or body.get("status") != "healthy":
        print(f"unhealthy: {url} answered {body!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
