"""URL rules whose builders werkzeug makes on first use (web/routing.py): every route of the
app builds the same URLs as werkzeug's own rules would, a variable may be called `rule`,
and making an app makes no builder."""

from __future__ import annotations

from werkzeug.routing import AnyConverter, Map, PathConverter, Rule
from werkzeug.routing.converters import NumberConverter

from aidmatch.web.routing import LazyRule


def _value(converter):
    """A value the converter takes."""
    if isinstance(converter, NumberConverter):
        return 17
    if isinstance(converter, AnyConverter):
        return min(converter.items)
    if isinstance(converter, PathConverter):
        return "a/b c"
    return "name-with space"


def test_every_route_builds_what_werkzeugs_own_rule_builds(app):
    eager = Map([Rule(r.rule, endpoint=r.endpoint, methods=r.methods, defaults=r.defaults)
                 for r in app.url_map.iter_rules()], converters=app.url_map.converters)  # fmt: skip
    lazy, own = app.url_map.bind("example.org"), eager.bind("example.org")
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    assert len(rules) > 150
    assert all(isinstance(r, LazyRule) for r in rules)
    for rule in rules:
        values = {
            **{n: _value(c) for n, c in rule._converters.items()},
            "extra": "x y",
        }  # an unknown value: the query string
        assert lazy.build(rule.endpoint, values) == own.build(rule.endpoint, values), rule


def test_a_variable_called_rule_is_built():
    adapter = Map([LazyRule("/a/<rule>/<int:self>", endpoint="a")]).bind("example.org")
    assert adapter.build("a", {"rule": "r", "self": 3}) == "/a/r/3"
    assert adapter.build("a", {"rule": "r", "self": 3, "q": 1}) == "/a/r/3?q=1"


def test_making_an_app_makes_no_builder(app):
    rules = [r for r in app.url_map.iter_rules() if isinstance(r, LazyRule)]
    made = [r for r in rules if any(cell.cell_contents for cell in _made(r))]
    assert made == []
    with app.test_request_context():
        from flask import url_for

        assert url_for("notify.inbox") == "/notifications"
    (inbox,) = [r for r in rules if r.endpoint == "notify.inbox"]
    assert any(cell.cell_contents for cell in _made(inbox))


def _made(rule: LazyRule) -> list:
    """The closure cells of the rule's two builders that hold what was made."""
    return [
        cell
        for build in (rule._build, rule._build_unknown)
        for name, cell in zip(build.__code__.co_freevars, build.__closure__, strict=True)
        if name == "made"
    ]
