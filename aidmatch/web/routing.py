"""URL rules whose builders are made when first used.

Werkzeug makes two URL builders for every rule as it is added (Python source assembled as a
syntax tree, then compiled): two thirds of making our app of some 200 routes, paid again by
every test and every new worker, for builders most of which that process never uses. Here
each builder is made the first time a URL is built with its rule (url_for), the same
builder werkzeug would have made then; matching a request does not use them. Making an app
went from 0.068 s to 0.023 s (bench/app_making.py, median of 20, with the time zones
read once: config._zones).
"""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Rule


class LazyRule(Rule):
    """A Rule (werkzeug.routing) that compiles a URL builder on its first use."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        made: list[Callable[..., tuple[str, str]]] = []
        make = super()._compile_builder

        def build(rule: Rule, /, *args, **kwargs) -> tuple[str, str]:
            # Bound to the rule by Rule.compile, as werkzeug's own builder is (positional
            # only: a URL's variable may be called `rule`).
            if not made:
                made.append(make(append_unknown))  # two threads may both make it: the same
            return made[0](rule, *args, **kwargs)

        return build
