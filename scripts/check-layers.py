#!/usr/bin/env python3
"""Holds src/ to the layers that docs/architecture.md lists.

Reads the import graph of the crate's files: an arrow A -> B when a file of A names `crate::B...`
(in a `use`, a use tree, or inline) or `super::B`, outside its `#[cfg(test)]` module and its
comments. Then checks, and names every file and arrow that breaks a rule:
  - every file of src/ stands in exactly one layer of the page's table;
  - every arrow goes to a file of the same layer or a lower one;
  - no files reach one another in a circle (within a layer either);
  - no file of src/ is over 600 lines.
Prints the layers as the page gives them, with each file's arrows counted. Exit status 1 on any
breach.
Usage: check-layers.py [CRATE_DIR]
"""

import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
SRC = ROOT / "src"
PAGE = ROOT / "docs" / "architecture.md"
MAX_LINES = 600


def module_name(path):
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return "::".join(parts)


def code(text):
    m = re.search(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{", text)
    text = text[: m.start()] if m else text
    return re.sub(r"//[^\n]*", "", text)


def use_trees(text):
    """crate:: paths inside `use crate::{...}` trees."""
    for m in re.finditer(r"\buse\s+crate::\{", text):
        i, depth = m.end(), 1
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        for item in re.split(r",(?![^{]*\})", text[m.end() : i - 1]):
            item = item.strip()
            if item:
                yield re.sub(r"::\{.*", "", item, flags=re.S)


def graph(files):
    def owner(path):
        parts = path.split("::")
        for i in range(len(parts), 0, -1):
            if "::".join(parts[:i]) in files:
                return "::".join(parts[:i])
        return None

    arrows = {m: set() for m in files}
    for mod, path in files.items():
        text = code(path.read_text())
        refs = set(re.findall(r"\bcrate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)", text))
        refs |= set(use_trees(text))
        if mod:
            parent = mod.rsplit("::", 1)[0] if "::" in mod else ""
            for m in re.finditer(r"\bsuper::([a-z_][a-z0-9_]*)", text):
                refs.add((parent + "::" if parent else "") + m.group(1))
        for r in refs:
            t = owner(r)
            if t and t != mod and not mod.startswith(t + "::"):
                arrows[mod].add(t)
    return arrows


def documented_layers(files):
    """The page's table: | n. name | `file`, `dir/`, ... | what it owns |."""
    layers = []
    table = re.search(r"^## Layers\n(.*?)(?=^## |\Z)", PAGE.read_text(), re.S | re.M)
    if not table:
        sys.exit(f"{PAGE.relative_to(ROOT)} has no '## Layers' section")
    for row in table.group(1).splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.match(r"\d+\.", cells[0]):
            continue
        names = re.findall(r"`([^`]+)`", cells[1])
        members = set()
        for n in names:
            n = n.rstrip("/").replace("/", "::")
            found = {m for m in files if m == n or m.startswith(n + "::")}
            if n == "lib":
                found = {""}
            if not found:
                sys.exit(f"the layers' table names `{n}`, which is no file of src/")
            members |= found
        layers.append((cells[0], members))
    return layers


def circles(arrows):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(arrows[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(arrows):
        if v not in index:
            visit(v)
    return out


def main():
    files = {module_name(p): p for p in sorted(SRC.rglob("*.rs"))}
    show = {m: str(p.relative_to(ROOT)) for m, p in files.items()}
    arrows = graph(files)
    problems = []
    layers = documented_layers(files)
    level = {}
    for i, (_, members) in enumerate(layers):
        for m in members:
            if m in level:
                problems.append(f"{show[m]} stands in two layers")
            level[m] = i
    for m in files:
        if m not in level:
            problems.append(f"{show[m]} stands in no layer of {PAGE.relative_to(ROOT)}")
    for a in sorted(arrows):
        for b in sorted(arrows[a]):
            if a in level and b in level and level[b] > level[a]:
                problems.append(
                    f"{show[a]} ({layers[level[a]][0]}) -> {show[b]} ({layers[level[b]][0]}): "
                    "names a file of a higher layer"
                )
    for c in circles(arrows):
        problems.append(f"circle of {len(c)} files: " + ", ".join(show[m] for m in c))
        for a in c:
            for b in sorted(arrows[a] & set(c)):
                problems.append(f"  {show[a]} -> {show[b]}")
    for m, p in files.items():
        n = len(p.read_text().splitlines())
        if n > MAX_LINES:
            problems.append(f"{show[m]} has {n} lines, over {MAX_LINES}")
    for name, members in reversed(layers):
        print(f"{name}: " + ", ".join(sorted(show[m] for m in members)))
    print(f"{len(files)} files, {sum(len(v) for v in arrows.values())} arrows, "
          f"{len(problems)} problems")
    for p in problems:
        print(p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
