#!/usr/bin/env python3
"""Assembles, packages and checks TVPassFFI.xcframework without Xcode.

The slice plan lives here alone; build-xcframework.sh asks it which Rust targets to build.
Minimum OS versions come from Package.swift (`platforms:`), so the build, the check and the
manifest cannot disagree.

  xcframework.py targets                       Rust targets, one a line: TRIPLE ENV_VAR VERSION
  xcframework.py assemble OUT HEADER MODULEMAP LIBDIR
                                               the .xcframework from LIBDIR/<triple>/libtvpass.a
  xcframework.py package XCFRAMEWORK DIST URL  DIST/TVPassFFI.xcframework.zip, its checksum and
                                               DIST/TVPass/ (the package with its release
                                               Package.swift: binaryTarget url + checksum)
  xcframework.py check XCFRAMEWORK DIST        fails loudly on any wrong slice (see check())
  xcframework.py self-test XCFRAMEWORK DIST    the check must catch a device slice placed in the
                                               iOS simulator entry
  xcframework.py compare OURS THEIRS           the same libraries (identifier, platform, variant,
                                               architectures, paths), headers and binaries: ours
                                               against the one `xcodebuild -create-xcframework`
                                               makes of the same slices (the release workflow)
  xcframework.py compare-self-test XCFRAMEWORK compare must accept a copy and refuse one whose
                                               plist lost an architecture

Tools: llvm-lipo, llvm-objdump and llvm-nm; the newest llvm-*-NN on PATH is taken (the archives
come from a recent LLVM), or Xcode's lipo/objdump/nm on macOS; TVPASS_LLVM_SUFFIX="-22" forces one.
"""

import hashlib
import os
import plistlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "TVPassFFI"
LIB = "libtvpass.a"
HEADER = "TVPassFFI.h"

# (library identifier, SupportedPlatform, SupportedPlatformVariant, Rust triples)
SLICES = [
    ("ios-arm64", "ios", None, ["aarch64-apple-ios"]),
    ("ios-arm64_x86_64-simulator", "ios", "simulator", ["aarch64-apple-ios-sim", "x86_64-apple-ios"]),
    ("tvos-arm64", "tvos", None, ["aarch64-apple-tvos"]),
    ("tvos-arm64_x86_64-simulator", "tvos", "simulator", ["aarch64-apple-tvos-sim", "x86_64-apple-tvos"]),
    ("macos-arm64_x86_64", "macos", None, ["aarch64-apple-darwin", "x86_64-apple-darwin"]),
]
# Package.swift name, deployment target variable, LC_BUILD_VERSION platform, legacy command.
PLATFORMS = {
    "ios": ("iOS", "IPHONEOS_DEPLOYMENT_TARGET", "LC_VERSION_MIN_IPHONEOS"),
    "tvos": ("tvOS", "TVOS_DEPLOYMENT_TARGET", "LC_VERSION_MIN_TVOS"),
    "macos": ("macOS", "MACOSX_DEPLOYMENT_TARGET", "LC_VERSION_MIN_MACOSX"),
}
ARCH = {"aarch64": "arm64", "x86_64": "x86_64"}


class CheckError(Exception):
    """A slice, the plist, the zip or the manifest is wrong."""


def fail(msg):
    raise CheckError(msg)


def arch_of(triple):
    return ARCH[triple.split("-")[0]]


def version_tuple(text):
    return tuple(int(p) for p in text.split("."))


def deployment_targets(manifest=HERE / "Package.swift"):
    """{'ios': '15.0', ...} from `platforms: [.iOS(.v15), ...]`."""
    text = Path(manifest).read_text()
    found = {}
    for key, (swift_name, _, _) in PLATFORMS.items():
        m = re.search(r"\.%s\(\.v(\d+)(?:_(\d+))?\)" % swift_name, text)
        if not m:
            fail(f"{manifest} declares no minimum for {swift_name}")
        found[key] = f"{m.group(1)}.{m.group(2) or 0}"
    return found


def tool(name):
    """llvm-NAME with the newest version suffix on PATH (or the forced one), else Xcode's."""
    forced = os.environ.get("TVPASS_LLVM_SUFFIX")
    if forced is not None:
        path = shutil.which(f"llvm-{name}{forced}")
        if path:
            return path
        fail(f"llvm-{name}{forced} not found")
    best = None
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for entry in os.listdir(d):
            m = re.fullmatch(r"llvm-%s-(\d+)" % name, entry)
            if m and (best is None or int(m.group(1)) > best[0]):
                best = (int(m.group(1)), os.path.join(d, entry))
    if best:
        return best[1]
    for candidate in (f"llvm-{name}", name):
        path = shutil.which(candidate)
        if path:
            return path
    fail(f"no llvm-{name} or {name} on PATH")


def run(*args):
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        fail(f"{' '.join(map(str, args))} failed: {out.stderr.strip()[:500]}")
    return out.stdout


def cmd_targets():
    mins = deployment_targets()
    for _, platform, _, triples in SLICES:
        for triple in triples:
            print(triple, PLATFORMS[platform][1], mins[platform])


def info_plist(slices):
    libraries = []
    for ident, platform, variant, triples in slices:
        entry = {
            "BinaryPath": LIB,
            "HeadersPath": "Headers",
            "LibraryIdentifier": ident,
            "LibraryPath": LIB,
            "SupportedArchitectures": [arch_of(t) for t in triples],
            "SupportedPlatform": platform,
        }
        if variant:
            entry["SupportedPlatformVariant"] = variant
        libraries.append(entry)
    return {
        "AvailableLibraries": libraries,
        "CFBundlePackageType": "XFWK",
        "XCFrameworkFormatVersion": "1.0",
    }


def cmd_assemble(out, header, modulemap, libdir):
    out, libdir = Path(out), Path(libdir)
    lipo = tool("lipo")
    if out.exists():
        shutil.rmtree(out)
    for ident, _, _, triples in SLICES:
        slice_dir = out / ident
        (slice_dir / "Headers").mkdir(parents=True)
        shutil.copy(header, slice_dir / "Headers" / HEADER)
        shutil.copy(modulemap, slice_dir / "Headers" / "module.modulemap")
        libs = [libdir / t / LIB for t in triples]
        for lib in libs:
            if not lib.is_file():
                fail(f"missing {lib}")
        if len(libs) == 1:
            shutil.copy(libs[0], slice_dir / LIB)
        else:
            run(lipo, "-create", *map(str, libs), "-output", str(slice_dir / LIB))
    with open(out / "Info.plist", "wb") as f:
        plistlib.dump(info_plist(SLICES), f, sort_keys=True)
    print(f"assembled {out}")


def write_zip(src_dir, zip_path):
    """A reproducible zip: sorted entries, fixed dates and modes, the folder at its root."""
    src_dir = Path(src_dir)
    files = sorted(p for p in src_dir.rglob("*"))
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for p in [src_dir] + files:
            arc = src_dir.name + "/" + str(p.relative_to(src_dir)) if p != src_dir else src_dir.name
            info = zipfile.ZipInfo(arc + ("/" if p.is_dir() else ""), date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            if p.is_dir():
                info.external_attr = (0o40755 << 16) | 0x10
                z.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, p.read_bytes())


def checksum(path):
    """What `swift package compute-checksum` prints: the SHA-256 of the file, in hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


LOCAL_FORM = f'.binaryTarget(name: "{NAME}", path: "{NAME}.xcframework")'


def release_manifest(url, digest, manifest=HERE / "Package.swift"):
    text = Path(manifest).read_text()
    if LOCAL_FORM not in text:
        fail(f"{manifest} has no `{LOCAL_FORM}` to turn into its release form")
    release = f'.binaryTarget(\n    name: "{NAME}",\n    url: "{url}",\n    checksum: "{digest}"\n)'
    return text.replace(LOCAL_FORM, release)


def package(xcframework, dist, url, sources=True):
    """Zips the folder into DIST, records its checksum and writes the release package."""
    xcframework, dist = Path(xcframework), Path(dist)
    dist.mkdir(parents=True, exist_ok=True)
    zip_path = dist / f"{NAME}.xcframework.zip"
    write_zip(xcframework, zip_path)
    digest = checksum(zip_path)
    (dist / f"{NAME}.xcframework.zip.sha256").write_text(digest + "\n")
    release = dist / "TVPass"
    if release.exists():
        shutil.rmtree(release)
    if sources:
        for part in ("Sources", "Tests"):
            shutil.copytree(HERE / part, release / part)
    release.mkdir(exist_ok=True)
    (release / "Package.swift").write_text(release_manifest(url, digest))
    return zip_path, digest, release


def cmd_package(xcframework, dist, url):
    zip_path, digest, release = package(xcframework, dist, url)
    print(f"{zip_path}: {zip_path.stat().st_size} bytes, checksum {digest}")
    print(f"release package: {release} (binaryTarget url {url})")


def members_load_commands(objdump, lib):
    """{member: [(command, platform or None, minos)]} for every object in an archive."""
    text = run(objdump, "--macho", "--private-headers", str(lib))
    members = {}
    current = None
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^\S+\((.+)\):$", line)
        if m:
            current = m.group(1)
            members[current] = []
            continue
        cmd = re.match(r"^\s+cmd (LC_BUILD_VERSION|LC_VERSION_MIN_\w+)$", line)
        if cmd and current is not None:
            block = "\n".join(lines[i + 1 : i + 6])
            if cmd.group(1) == "LC_BUILD_VERSION":
                platform = re.search(r"platform (\w+)", block).group(1)
                minos = re.search(r"minos ([\d.]+)", block).group(1)
            else:
                platform = None
                minos = re.search(r"version ([\d.]+)", block).group(1)
            members[current].append((cmd.group(1), platform, minos))
    return members


def declared_functions(header):
    return sorted(set(re.findall(r"\b((?:uniffi|ffi)_tvpass_\w+)\(", Path(header).read_text())))


def check_slice(ident, platform, variant, triples, slice_dir, mins, tools, functions):
    lipo, objdump, nm = tools
    lib = slice_dir / LIB
    for rel in (LIB, f"Headers/{HEADER}", "Headers/module.modulemap"):
        if not (slice_dir / rel).is_file():
            fail(f"{ident}: missing {rel}")
    modulemap = (slice_dir / "Headers" / "module.modulemap").read_text()
    if not re.search(r"module\s+%s\s*\{" % NAME, modulemap) or f'header "{HEADER}"' not in modulemap:
        fail(f"{ident}: module.modulemap does not declare module {NAME} with {HEADER}")
    want_archs = sorted(arch_of(t) for t in triples)
    archs = sorted(run(lipo, "-archs", str(lib)).split())
    if archs != want_archs:
        fail(f"{ident}: architectures {archs}, expected {want_archs}")
    want_platform = platform + ("simulator" if variant else "")
    legacy = PLATFORMS[platform][2]
    minimum = version_tuple(mins[platform])
    with tempfile.TemporaryDirectory() as tmp:
        for arch in archs:
            thin = lib
            if len(archs) > 1:
                thin = Path(tmp) / f"{arch}.a"
                run(lipo, str(lib), "-thin", arch, "-output", str(thin))
            members = members_load_commands(objdump, thin)
            if not members:
                fail(f"{ident} ({arch}): no objects")
            for member, commands in members.items():
                if not commands:
                    fail(f"{ident} ({arch}): {member} names no platform")
                for command, plat, minos in commands:
                    if command == "LC_BUILD_VERSION":
                        if plat != want_platform:
                            fail(f"{ident} ({arch}): {member} is built for {plat}, expected {want_platform}")
                    elif variant or command != legacy:
                        # The older commands cannot tell a simulator from a device.
                        fail(f"{ident} ({arch}): {member} carries {command}, expected LC_BUILD_VERSION {want_platform}")
                    if version_tuple(minos) > minimum:
                        fail(f"{ident} ({arch}): {member} needs {platform} {minos}, Package.swift declares {mins[platform]}")
            defined = set()
            for line in run(nm, "--defined-only", "--extern-only", "-j", str(thin)).splitlines():
                defined.add(line.strip().lstrip("_"))
            missing = [f for f in functions if f not in defined]
            if missing:
                fail(f"{ident} ({arch}): {len(missing)} of the header's functions undefined, e.g. {missing[:3]}")
            print(f"  {ident} ({arch}): {len(members)} objects for {want_platform} (min <= {mins[platform]}), "
                  f"{len(functions)} header functions defined")


def check_plist(xcframework):
    try:
        with open(xcframework / "Info.plist", "rb") as f:
            plist = plistlib.load(f)
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        fail(f"Info.plist does not parse: {e}")
    if plist.get("CFBundlePackageType") != "XFWK" or plist.get("XCFrameworkFormatVersion") != "1.0":
        fail("Info.plist is not an XCFramework 1.0 plist")
    entries = {e.get("LibraryIdentifier"): e for e in plist.get("AvailableLibraries", [])}
    if sorted(entries) != sorted(s[0] for s in SLICES):
        fail(f"Info.plist names {sorted(entries)}, expected {sorted(s[0] for s in SLICES)}")
    for ident, platform, variant, triples in SLICES:
        e = entries[ident]
        if e.get("SupportedPlatform") != platform or e.get("SupportedPlatformVariant") != variant:
            fail(f"Info.plist: {ident} is for {e.get('SupportedPlatform')}/{e.get('SupportedPlatformVariant')}")
        if sorted(e.get("SupportedArchitectures", [])) != sorted(arch_of(t) for t in triples):
            fail(f"Info.plist: {ident} architectures {e.get('SupportedArchitectures')}")
        if e.get("LibraryPath") != LIB or e.get("HeadersPath") != "Headers":
            fail(f"Info.plist: {ident} paths {e.get('LibraryPath')}, {e.get('HeadersPath')}")


def check_zip(xcframework, dist):
    zip_path = dist / f"{NAME}.xcframework.zip"
    manifest = dist / "TVPass" / "Package.swift"
    digest = checksum(zip_path)
    recorded = (dist / f"{NAME}.xcframework.zip.sha256").read_text().strip()
    m = re.search(r'\.binaryTarget\(\s*name: "%s",\s*url: "([^"]+)",\s*checksum: "([0-9a-f]{64})"' % NAME,
                  manifest.read_text())
    if not m:
        fail(f"{manifest} has no release binaryTarget(name:url:checksum:)")
    if not m.group(1).endswith(f"/{NAME}.xcframework.zip"):
        fail(f"{manifest}: url {m.group(1)} does not name {NAME}.xcframework.zip")
    if not (digest == recorded == m.group(2)):
        fail(f"checksums differ: zip {digest}, recorded {recorded}, Package.swift {m.group(2)}")
    with zipfile.ZipFile(zip_path) as z:
        names = {n.rstrip("/") for n in z.namelist()}
        for n in names:
            if n != f"{NAME}.xcframework" and not n.startswith(f"{NAME}.xcframework/"):
                fail(f"zip entry {n} is outside {NAME}.xcframework/")
        on_disk = {f"{NAME}.xcframework"} | {
            f"{NAME}.xcframework/{p.relative_to(xcframework)}" for p in xcframework.rglob("*")
        }
        if names != on_disk:
            fail(f"zip and folder differ: {sorted(names ^ on_disk)[:5]}")
        for p in xcframework.rglob("*"):
            if p.is_file() and z.read(f"{NAME}.xcframework/{p.relative_to(xcframework)}") != p.read_bytes():
                fail(f"zip entry for {p.relative_to(xcframework)} differs from the folder")
    print(f"  zip: {len(names)} entries under {NAME}.xcframework/, checksum {digest} in Package.swift")


def check(xcframework, dist):
    xcframework, dist = Path(xcframework), Path(dist)
    mins = deployment_targets()
    tools = (tool("lipo"), tool("objdump"), tool("nm"))
    check_plist(xcframework)
    header = xcframework / SLICES[0][0] / "Headers" / HEADER
    functions = declared_functions(header)
    if not any(f.startswith("uniffi_tvpass_fn_") for f in functions):
        fail(f"{header} declares no uniffi_tvpass_fn_ function")
    for ident, platform, variant, triples in SLICES:
        if (xcframework / ident / "Headers" / HEADER).read_bytes() != header.read_bytes():
            fail(f"{ident}: header differs from {SLICES[0][0]}'s")
        check_slice(ident, platform, variant, triples, xcframework / ident, mins, tools, functions)
    check_zip(xcframework, dist)


def cmd_check(xcframework, dist):
    try:
        check(xcframework, dist)
    except CheckError as e:
        print(f"XCFramework check FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"XCFramework check ok: {xcframework}")


def cmd_self_test(xcframework, dist):
    """A device library in the iOS simulator entry (re-zipped, checksum updated) must fail."""
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / f"{NAME}.xcframework"
        shutil.copytree(xcframework, bad)
        device = Path(tmp) / "device.a"
        shutil.copy(bad / "ios-arm64" / LIB, device)
        lipo = tool("lipo")
        x86 = Path(tmp) / "x86.a"
        run(lipo, str(bad / SLICES[1][0] / LIB), "-thin", "x86_64", "-output", str(x86))
        run(lipo, "-create", str(device), str(x86), "-output", str(bad / SLICES[1][0] / LIB))
        bad_dist = Path(tmp) / "dist"
        package(bad, bad_dist, f"https://example.invalid/{NAME}.xcframework.zip", sources=False)
        try:
            check(bad, bad_dist)
        except CheckError as e:
            if "expected iossimulator" not in str(e):
                print(f"self-test FAILED: caught for the wrong reason: {e}", file=sys.stderr)
                sys.exit(1)
            print(f"self-test ok: a device slice in the simulator entry is caught: {e}")
            return
    print("self-test FAILED: a device slice in the simulator entry passed the check", file=sys.stderr)
    sys.exit(1)


def describe(xcframework):
    """What two XCFrameworks must share: per library identifier, its plist entry (architectures
    sorted) and the SHA-256 of every file in its folder."""
    root = Path(xcframework)
    with open(root / "Info.plist", "rb") as f:
        plist = plistlib.load(f)
    out = {"format": plist.get("XCFrameworkFormatVersion"), "libraries": {}}
    for entry in plist.get("AvailableLibraries", []):
        ident = entry["LibraryIdentifier"]
        files = {}
        for path in sorted((root / ident).rglob("*")):
            if path.is_file():
                files[str(path.relative_to(root / ident))] = hashlib.sha256(path.read_bytes()).hexdigest()
        out["libraries"][ident] = {
            "platform": entry.get("SupportedPlatform"),
            "variant": entry.get("SupportedPlatformVariant"),
            "architectures": sorted(entry.get("SupportedArchitectures", [])),
            "library": entry.get("LibraryPath"),
            "binary": entry.get("BinaryPath", entry.get("LibraryPath")),
            "headers": entry.get("HeadersPath"),
            "files": files,
        }
    return out


def differences(ours, theirs):
    a, b = describe(ours), describe(theirs)
    found = []
    if a["format"] != b["format"]:
        found.append(f"format {a['format']} vs {b['format']}")
    for ident in sorted(set(a["libraries"]) | set(b["libraries"])):
        x, y = a["libraries"].get(ident), b["libraries"].get(ident)
        if x is None or y is None:
            found.append(f"{ident}: only in {'theirs' if x is None else 'ours'}")
            continue
        for key in x:
            if x[key] != y[key]:
                found.append(f"{ident}: {key} {x[key]} vs {y[key]}")
    return found


def cmd_compare(ours, theirs):
    found = differences(ours, theirs)
    if found:
        raise CheckError("the XCFrameworks differ:\n  " + "\n  ".join(found))
    print(f"{ours} and {theirs}: the same {len(describe(ours)['libraries'])} libraries, headers and binaries")


def cmd_compare_self_test(xcframework):
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / f"{NAME}.xcframework"
        shutil.copytree(xcframework, copy)
        if differences(xcframework, copy):
            fail("compare-self-test: a copy differs from its original")
        with open(copy / "Info.plist", "rb") as f:
            plist = plistlib.load(f)
        plist["AvailableLibraries"][-1]["SupportedArchitectures"] = plist["AvailableLibraries"][-1]["SupportedArchitectures"][:1]
        with open(copy / "Info.plist", "wb") as f:
            plistlib.dump(plist, f)
        if not differences(xcframework, copy):
            fail("compare-self-test: a plist that lost an architecture was accepted")
    print("compare self-test ok: a copy is the same, a plist that lost an architecture differs")


def main(argv):
    commands = {
        "targets": (cmd_targets, 0),
        "assemble": (cmd_assemble, 4),
        "package": (cmd_package, 3),
        "check": (cmd_check, 2),
        "self-test": (cmd_self_test, 2),
        "compare": (cmd_compare, 2),
        "compare-self-test": (cmd_compare_self_test, 1),
    }
    if len(argv) < 2 or argv[1] not in commands or len(argv) - 2 != commands[argv[1]][1]:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    try:
        commands[argv[1]][0](*argv[2:])
    except CheckError as e:
        print(f"{argv[1]} FAILED: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv)
