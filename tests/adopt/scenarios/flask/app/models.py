"""The blog's models at the newest legacy revision."""

import sqlalchemy as sa

from app import db


class User(db.Model):
    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), index=True, unique=True, nullable=False)
    email = sa.Column(sa.String(120), index=True, unique=True, nullable=False)
    about_me = sa.Column(sa.String(140))
    last_seen = sa.Column(sa.DateTime)


class Post(db.Model):
    id = sa.Column(sa.Integer, primary_key=True)
    body = sa.Column(sa.Text, nullable=False)
    timestamp = sa.Column(sa.DateTime, index=True)
    user_id = sa.Column(sa.Integer, sa.ForeignKey("user.id"), index=True, nullable=False)
