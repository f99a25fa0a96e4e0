"""Plans are executed exactly as written: ``%`` and ``:`` in function bodies survive, online and offline."""

from __future__ import annotations

LABEL = """
LABEL = SplitColumn(
    "items", "label", {"code": "text", "note": "text"},
    parse="SELECT split_part(value, ':', 1), format('%s at 12:30', split_part(value, ':', 2)), NULL::text",
    compose="SELECT code || ':' || note",
)
"""

SCENE = """
op.execute("CREATE TABLE items (id bigserial PRIMARY KEY, label text)")
"""


def test_online_bodies_keep_colons_and_percent_signs(make_project) -> None:
    project = make_project("p", preamble=LABEL)
    project.revision("scene", "expand", SCENE)
    project.revision("split", "expand", "LABEL.expand(op)")
    project.upgrade("heads")
    project.sql("INSERT INTO items (label) VALUES ('A1:box')")
    assert project.rows("SELECT code, note FROM items") == [("A1", "box at 12:30")]


def test_offline_script_carries_the_bodies_verbatim(make_project, capsys) -> None:
    project = make_project("p", preamble=LABEL)
    project.revision("scene", "expand", SCENE)
    project.revision("split", "expand", "LABEL.expand(op)")
    project.upgrade("heads", sql=True)
    out = capsys.readouterr().out
    assert "format('%s at 12:30', split_part(value, ':', 2))" in out
    assert "%%" not in out.split("-- Running upgrade scene -> split")[1]
