"""The report page: one self-contained HTML document (Jinja2 template, inline CSS, no links out).

Figures are embedded as ``data:`` URIs of their SVG (vector, text kept as text, no id
clashes between figures since each SVG stays its own document); tables are the great-tables
fragments. The table of contents links to every section; the print stylesheet hides it,
keeps figures and tables on one page each where they fit, and prints landscape so that the
wide safety table fits (so "Print to PDF" gives a usable document).

The template lives in this module rather than in a ``.html`` file so that it ships with the
package whatever the packaging configuration.
"""

from __future__ import annotations

from typing import Any

import jinja2

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="oncotrial {{ version }}">
<title>{{ title }}</title>
<style>
  :root { --ink: #1f2933; --muted: #52606d; --rule: #d9e2ec; --accent: #0072B2; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
         color: var(--ink); background: #fff; }
  header { padding: 1.5rem 2rem 1rem; border-bottom: 3px solid var(--accent); }
  header h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
  header p { margin: .15rem 0; color: var(--muted); }
  .layout { display: flex; align-items: flex-start; }
  nav#toc { position: sticky; top: 0; flex: 0 0 15rem; max-height: 100vh; overflow-y: auto;
            padding: 1rem 1rem 2rem 2rem; border-right: 1px solid var(--rule); }
  nav#toc h2 { font-size: .85rem; text-transform: uppercase; letter-spacing: .06em;
               color: var(--muted); margin: 0 0 .5rem; }
  nav#toc ol { padding-left: 1.1rem; margin: 0; }
  nav#toc li { margin: .25rem 0; }
  nav#toc a { color: var(--ink); text-decoration: none; }
  nav#toc a:hover { color: var(--accent); text-decoration: underline; }
  main { flex: 1 1 auto; min-width: 0; padding: 1rem 2rem 3rem; }
  section { margin: 0 0 2.5rem; }
  section h2 { font-size: 1.25rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
  figure { margin: 1rem 0; }
  figure img { max-width: 100%; height: auto; display: block; }
  figcaption, .footnote { color: var(--muted); font-size: .85rem; margin-top: .4rem; }
  .table-wrap { overflow-x: auto; }
  .facts { border-collapse: collapse; }
  .facts td { padding: .15rem 1.2rem .15rem 0; vertical-align: top; }
  .facts td:first-child { color: var(--muted); white-space: nowrap; }
  .files li code { font-size: .85rem; }
  .notes li { color: var(--muted); font-size: .9rem; }
  @page { size: A4 landscape; margin: 14mm; }
  @media print {
    nav#toc { display: none; }
    .layout { display: block; }
    main { padding: 0; }
    header { padding: 0 0 .5rem; }
    section { break-inside: avoid-page; page-break-inside: avoid; }
    section.figure, section.table { break-before: page; page-break-before: always; }
    figure img { max-height: 170mm; width: auto; }
    a { color: inherit; text-decoration: none; }
  }
</style>
</head>
<body>
<header>
  <h1>{{ title }}</h1>
  {% for line in subtitle %}<p>{{ line }}</p>{% endfor %}
</header>
<div class="layout">
<nav id="toc" aria-label="Table of contents">
  <h2>Contents</h2>
  <ol>
    <li><a href="#overview">Overview</a></li>
    {% for item in items %}<li><a href="#{{ item.id }}">{{ item.heading }}</a></li>
    {% endfor %}<li><a href="#methods">Methods and conventions</a></li>
    <li><a href="#files">Files</a></li>
  </ol>
</nav>
<main>
<section id="overview">
  <h2>Overview</h2>
  <table class="facts">
    {% for key, value in facts %}<tr><td>{{ key }}</td><td>{{ value }}</td></tr>
    {% endfor %}
  </table>
</section>
{% for item in items %}
<section id="{{ item.id }}" class="{{ item.kind }}">
  <h2>{{ item.heading }}</h2>
  {% if item.kind == "figure" %}
  <figure>
    <img src="{{ item.src }}" alt="{{ item.heading }}">
    <figcaption>{{ item.caption }}</figcaption>
  </figure>
  {% else %}
  <div class="table-wrap">{{ item.html | safe }}</div>
  {% endif %}
</section>
{% endfor %}
<section id="methods">
  <h2>Methods and conventions</h2>
  <ul class="notes">{% for line in methods %}<li>{{ line }}</li>{% endfor %}</ul>
</section>
<section id="files">
  <h2>Files</h2>
  <p class="footnote">Every table is also written as CSV and RTF, every figure as SVG and PNG;
  <code>results.json</code> holds every number shown, as the statistics core computed it.</p>
  <ul class="files">{% for name in files %}<li><code>{{ name }}</code></li>{% endfor %}</ul>
</section>
</main>
</div>
</body>
</html>
"""

_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def render_page(context: dict[str, Any]) -> str:
    """The HTML page of a report (``context`` as :func:`oncotrial.report.build` assembles it)."""
    return _ENV.from_string(TEMPLATE).render(**context)
