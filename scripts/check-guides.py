#!/usr/bin/env python3
"""Every Rust, Swift, Kotlin, TypeScript and JavaScript block of the guides (docs/*.md and README.md) is code that the
test command compiles and runs: each must stand, line for line (indentation aside), in a test or
example of its language. Blocks of other languages (sh, xml, toml, text) are not checked.
Exit status 1 names each block that stands nowhere."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "rust": ["tests", "examples", "cli/tests", "emulator/tests", "gateway/tests"],
    "swift": ["bindings/swift/Tests"],
    "kotlin": ["bindings/kotlin/src/test", "bindings/kotlin/src/testFixtures",
               "bindings/kotlin/android/src/test"],
    "typescript": ["bindings/web/test"],
    "javascript": ["bindings/web/test"],
}
SUFFIX = {"rust": ".rs", "swift": ".swift", "kotlin": ".kt", "typescript": ".ts",
          "javascript": ".mjs"}


def norm(lines):
    return [l.strip() for l in lines if l.strip()]


def blocks(md):
    for m in re.finditer(r"^```(\w+)[^\n]*\n(.*?)^```", md.read_text(), re.S | re.M):
        lang = m.group(1)
        if lang in SOURCES:
            line = md.read_text()[: m.start()].count("\n") + 1
            yield lang, line, norm(m.group(2).splitlines())


def sources(lang):
    out = []
    for d in SOURCES[lang]:
        for f in sorted((ROOT / d).rglob("*" + SUFFIX[lang])):
            out.append((f, norm(f.read_text().splitlines())))
    return out


def contains(haystack, needle):
    n = len(needle)
    first = needle[0]
    for i, line in enumerate(haystack):
        if line == first and haystack[i : i + n] == needle:
            return True
    return False


def main():
    guides = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
    cache = {lang: sources(lang) for lang in SOURCES}
    missing, checked = [], 0
    for md in guides:
        for lang, line, code in blocks(md):
            if not code:
                continue
            checked += 1
            if not any(contains(src, code) for _, src in cache[lang]):
                missing.append(f"{md.relative_to(ROOT)}:{line}: {lang} block stands in no test "
                               f"or example (first line: {code[0]})")
    for m in missing:
        print(m, file=sys.stderr)
    print(f"guides: {checked} code blocks checked, {len(missing)} not drawn from a test or example")
    sys.exit(1 if missing else 0)


if __name__ == "__main__":
    main()
