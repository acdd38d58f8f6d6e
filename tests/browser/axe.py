"""axe-core in the browser tests: inject the vendored copy into a page, run the WCAG 2.x A
and AA rules, report violations readably.

Only the tests load axe (static/vendor/axe-core/, vendored by scripts/vendor-frontend); no
page of the app does.
"""

from __future__ import annotations

from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")

_RUN = """async ([tags, exclude]) => {
  const context = exclude.length ? { exclude: exclude.map((s) => [s]) } : document;
  const result = await axe.run(context, {
    runOnly: { type: "tag", values: tags },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    url: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.map(String).join(" "),
      summary: n.failureSummary || "",
    })),
  }));
}"""


def run_axe(page, exclude: tuple[str, ...] = ()) -> list[dict]:
    """All WCAG 2.0/2.1 A and AA violations on the page as it is now (any impact).

    exclude: CSS selectors of parts to leave out (each must say why where it is passed).
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # From the app's static files, as a page's own script would load it: the CSP allows
        # scripts from 'self' only, and refuses the inline copy add_script_tag(path=) makes.
        assert AXE_JS.is_file(), AXE_JS
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    return page.evaluate(_RUN, [WCAG_TAGS, list(exclude)])


def blocking(violations: list[dict]) -> list[dict]:
    """The violations that fail a test: impact serious or critical."""
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(where: str, violations: list[dict]) -> str:
    """One readable block per violation: rule id, impact, help, each target and why."""
    lines = []
    for v in violations:
        lines.append(f"{where}: [{v['impact']}] {v['id']}: {v['help']} ({v['url']})")
        for node in v["nodes"]:
            why = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}  -- {why}")
    return "\n".join(lines)
