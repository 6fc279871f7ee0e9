#!/usr/bin/env python3
"""One version for every package: the workspace's (Cargo.toml, [workspace.package] version).

Fails, naming each file and the version it holds, when any differs:
  - every crate of the workspace takes `version.workspace = true`;
  - the CLI's dependencies on the SDK and the emulator pin that version (`=X.Y.Z`);
  - bindings/web/package.json;
  - the Kotlin JVM library's POM and the Android library's POM and Gradle build.
(The Swift release manifest is written from the workspace version by build-xcframework.sh.)
The version itself must be semver (MAJOR.MINOR.PATCH, an optional -pre-release).
Usage: check-version.py [ROOT]   |   check-version.py --self-test
"""

import json
import re
import shutil
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
# Besides every workspace member's Cargo.toml (read from the root manifest).
OTHER_FILES = [
    "bindings/web/package.json", "bindings/kotlin/pom.xml",
    "bindings/kotlin/android/pom.xml", "bindings/kotlin/android/build.gradle.kts",
]


def files(root):
    members = tomllib.loads((root / "Cargo.toml").read_text())["workspace"]["members"]
    return [str(Path(m) / "Cargo.toml") for m in members] + OTHER_FILES


def pom_version(path):
    root = ET.parse(path).getroot()
    ns = re.match(r"\{[^}]*\}", root.tag)
    return root.findtext(f"{ns.group(0) if ns else ''}version")


def check(root):
    problems = []
    workspace = tomllib.loads((root / "Cargo.toml").read_text())
    version = workspace["workspace"]["package"]["version"]
    if not SEMVER.match(version):
        problems.append(f"Cargo.toml: workspace version {version!r} is not semver")
    for member in workspace["workspace"]["members"]:
        manifest = root / member / "Cargo.toml"
        package = tomllib.loads(manifest.read_text())["package"]
        if package.get("version") != {"workspace": True}:
            problems.append(f"{manifest.relative_to(root)}: version {package.get('version')!r}, "
                            "not version.workspace = true")
    cli = tomllib.loads((root / "cli/Cargo.toml").read_text())
    for dep in ("tvpass", "tvpass-emulator"):
        pinned = cli["dependencies"][dep].get("version")
        if pinned != f"={version}":
            problems.append(f"cli/Cargo.toml: {dep} = {pinned!r}, not ={version}")
    others = {
        "bindings/web/package.json": json.loads((root / "bindings/web/package.json").read_text())["version"],
        "bindings/kotlin/pom.xml": pom_version(root / "bindings/kotlin/pom.xml"),
        "bindings/kotlin/android/pom.xml": pom_version(root / "bindings/kotlin/android/pom.xml"),
    }
    gradle = re.search(r'^version = "([^"]*)"', (root / "bindings/kotlin/android/build.gradle.kts").read_text(), re.M)
    others["bindings/kotlin/android/build.gradle.kts"] = gradle.group(1) if gradle else None
    for path, found in others.items():
        if found != version:
            problems.append(f"{path}: version {found!r}, the workspace's is {version}")
    return version, problems


def self_test(root):
    """A copy with the web package's version bumped must fail, naming that file."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for f in files(root):
            (tmp / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / f, tmp / f)
        package = tmp / "bindings/web/package.json"
        data = json.loads(package.read_text())
        data["version"] = "9.9.9"
        package.write_text(json.dumps(data))
        _, problems = check(tmp)
        if not any("bindings/web/package.json" in p and "9.9.9" in p for p in problems):
            sys.exit(f"self-test: a differing package.json passed: {problems}")
    print("check-version self-test: a differing package.json is refused")


def main():
    args = sys.argv[1:]
    root = Path(__file__).resolve().parent.parent
    if args and args[0] == "--self-test":
        self_test(root)
        args = args[1:]
    if args:
        root = Path(args[0])
    version, problems = check(root)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"one version: {version} in every crate, package.json, POM and Gradle build")


if __name__ == "__main__":
    main()
