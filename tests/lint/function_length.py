#!/usr/bin/env python3
"""No function over 80 lines (from its signature's first line to its closing brace), in bench/, harness/,
base/, transports/, serializers/ (C++) and plots/ (Python).

C++ is read as clang-format lays it out (tests/run_all.sh checks that first): a definition's body opens at the
end of its declaration's last line and closes with a brace alone on a line at the declaration's indentation. Python functions come
from the ast module. Prints each offender as path:line name (N lines) and exits 1 if there is any.

usage: tests/lint/function_length.py [ROOT] [--limit N]
"""
import argparse
import ast
import re
import sys
from pathlib import Path

CPP_DIRS = ("bench", "harness", "base", "transports", "serializers")
# Lines that start something other than a function: a namespace, a type, a preprocessor line, a comment.
_NOT_A_FUNCTION = re.compile(r"^\s*(namespace|struct|class|enum|union|#|//|/\*|\*|}|extern\s+\"C\"|using\b|"
                             r"public:|private:|protected:)")
_TYPE_HEAD = re.compile(r"^\s*(template\s*<.*>\s*)?(struct|class|union|enum)\b")


def cpp_functions(path):
    """(line, name, length) of every function defined at namespace level (no indentation) or in a class body
    (two spaces): its declaration's first line to the brace that closes its body."""
    lines = path.read_text(errors="replace").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        indent = len(line) - len(line.lstrip())
        if not line.strip() or indent not in (0, 2) or _NOT_A_FUNCTION.match(line):
            i += 1
            continue
        # The declaration runs to the first line that ends it: with a body ("{") or without (";").
        k = i
        while k < len(lines) and not lines[k].rstrip().endswith(("{", ";", "}")) and k - i < 12:
            k += 1
        head = " ".join(x.strip() for x in lines[i:k + 1])
        before_paren = head.split("(", 1)[0]
        is_function = (k < len(lines) and lines[k].rstrip().endswith("{") and "(" in head
                       and not _TYPE_HEAD.match(head) and ("=" not in before_paren or "operator" in before_paren))
        if not is_function:
            i = k + 1 if k > i else i + 1
            continue
        close = " " * indent + "}"
        end = next((j for j in range(k + 1, len(lines)) if lines[j].rstrip() in (close, close + ";")), None)
        if end is None:
            i = k + 1
            continue
        name = re.search(r"([~\w:]+(?:operator\S*)?)\s*\(", head)
        yield i + 1, name.group(1) if name else "?", end - i + 1
        i = end + 1


def python_functions(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.lineno, node.name, node.end_lineno - node.lineno + 1


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[2]))
    ap.add_argument("--limit", type=int, default=80)
    args = ap.parse_args(argv)
    root = Path(args.root)
    found = []
    for d in CPP_DIRS:
        for path in sorted((root / d).rglob("*.[ch]pp")):
            found += [(path, *f) for f in cpp_functions(path)]
    for path in sorted((root / "plots").rglob("*.py")):
        found += [(path, *f) for f in python_functions(path)]
    longest = max(found, key=lambda f: f[3], default=None)
    over = [f for f in found if f[3] > args.limit]
    for path, line, name, n in sorted(over, key=lambda f: -f[3]):
        print(f"{path.relative_to(root)}:{line} {name} ({n} lines)")
    if longest:
        print(f"{len(found)} functions; the longest: {longest[0].relative_to(root)}:{longest[1]} {longest[2]} "
              f"({longest[3]} lines); over {args.limit}: {len(over)}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
