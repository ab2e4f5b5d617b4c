#!/usr/bin/env python3
"""The fenced code blocks of README.md, for the tests that run them.

    readme_blocks.py named FILE   print the block whose first line names FILE
                                  (`/* quickstart.c */`, `# quickstart.py`)
    readme_blocks.py list         print each block's language and first line
    readme_blocks.py dump DIR     DIR/NNN/{lang,name,body} per block, in order
                                  (name: the file its first line names, if any)

A block's language is the word after the opening fence (sh, c, python, js,
go, text...); packaging/readme_test.sh runs them in order.
"""

import pathlib
import re
import sys

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```([A-Za-z0-9_+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(text=None):
    """[(language, body)] in the order of the README."""
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(text if text is not None else README.read_text())]


def file_name(body):
    """The file a block's first line names: `/* quickstart.c */`, `# quickstart.py`, `// x.go`."""
    first = body.splitlines()[0] if body else ""
    m = re.match(r"^\s*(?:/\*|#|//)\s*([\w.-]+\.(?:c|py|cjs|mjs|js|go))\b", first)
    return m.group(1) if m else ""


def dump(out):
    out = pathlib.Path(out)
    for i, (lang, body) in enumerate(blocks(), 1):
        d = out / f"{i:03d}"
        d.mkdir(parents=True)
        (d / "lang").write_text(lang)
        (d / "name").write_text(file_name(body))
        (d / "body").write_text(body)


def named(name):
    for lang, body in blocks():
        first = body.splitlines()[0] if body else ""
        if re.search(r"(^|[\s/#*])" + re.escape(name) + r"(\s|\*/|$)", first):
            return body
    raise SystemExit(f"readme_blocks.py: README.md has no block whose first line names {name}")


def main(argv):
    if len(argv) == 3 and argv[1] == "named":
        sys.stdout.write(named(argv[2]))
    elif len(argv) == 3 and argv[1] == "dump":
        dump(argv[2])
    elif len(argv) == 2 and argv[1] == "list":
        for lang, body in blocks():
            print(lang or "-", (body.splitlines() or [""])[0])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
