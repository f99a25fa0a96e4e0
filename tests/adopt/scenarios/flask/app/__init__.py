"""A Flask app with Flask-SQLAlchemy and Flask-Migrate, configured from the environment."""

import os

from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate()


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get(
        "DATABASE_URL", "sqlite:///" + os.path.join(os.getcwd(), "app.db")
    )
    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True)

    from app import models  # noqa: F401  the models register on db.metadata

    return app
