"""What runs inside an Alembic migration: the env.py hook and everything it installs."""
