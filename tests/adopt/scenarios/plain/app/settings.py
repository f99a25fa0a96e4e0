"""Settings from the environment, the way the service reads them."""

import os


def database_uri() -> str:
    return os.environ["APP_DATABASE_URI"]
