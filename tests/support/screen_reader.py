"""What a screen reader says reading a page (or part of one) from top to
bottom: Guidepup's virtual screen reader (from npm, see tests/support/npm),
loaded into the page, moving to the next item until the end.

It speaks a heading or a link twice, as it enters (its role and name) and
again as it reads the text inside; `heard` keeps what a person hears once:
the entry, not the repeat, and no "end of" lines."""

import re
from functools import cache
from pathlib import Path

BUNDLE = Path(__file__).parent / "npm/node_modules/@guidepup/virtual-screen-reader/lib/esm/index.browser.js"

READ = """async (selector) => {
  const { virtual } = window.__virtualScreenReader;
  await virtual.start({ container: document.querySelector(selector), displayCursor: false });
  // At the end of a part of the page it starts that part again (of the whole page, it stays at the end).
  let log = [...(await virtual.spokenPhraseLog())];
  for (let step = 0; step < 5000; step++) {
    await virtual.next();
    const now = [...(await virtual.spokenPhraseLog())];
    if (now.length === log.length || now.at(-1) === now[0]) break;
    log = now;
  }
  await virtual.stop();
  return log;
}"""

NAMED_BY_CONTENT = re.compile(r"^(heading|link), (.*)$")


@cache
def _script():
    """The browser build as a plain script (it is an ES module; the page's CSP allows no inline script,
    so it is evaluated through Playwright, which may not import)."""
    source = BUNDLE.read_text()
    source, exports = re.subn(
        r"export\{([\w$]+) as Virtual,([\w$]+) as virtual\};?",
        r"window.__virtualScreenReader = { Virtual: \1, virtual: \2 };",
        source,
    )
    assert exports == 1, "the virtual screen reader's bundle changed shape"
    return "(() => {\n" + source + "\n})()"


def read_aloud(page, selector="body"):
    """Every phrase the virtual screen reader says, reading `selector` through."""
    page.evaluate(_script())
    return page.evaluate(READ, selector)


def heard(phrases):
    """The phrases as a person hears them: a heading's or a link's text is
    said with its role, not again as the reader walks through it."""
    kept, echo = [], ""
    for phrase in phrases:
        if phrase.startswith("end of "):
            echo = ""
            continue
        named = NAMED_BY_CONTENT.match(phrase)
        if named:
            echo = named.group(2)
        elif echo and phrase in echo:
            echo = echo[echo.index(phrase) + len(phrase) :]
            continue
        kept.append(phrase)
    return kept
