# Shared by the cross-build scripts (sourced): where cross builds keep their target directories,
# and how a target's standard library is obtained.
#   TVPASS_CACHE_DIR   kept between runs, outside the clone (default: /var/cache/tvpass when it
#                      can be written, else target/cache inside the clone)

tvpass_cache_dir() {
  local dir="${TVPASS_CACHE_DIR:-/var/cache/tvpass}"
  if mkdir -p "$dir" 2>/dev/null && [ -w "$dir" ]; then
    echo "$dir"
  else
    mkdir -p target/cache && echo "$PWD/target/cache"
  fi
}

# A field of the workspace's [workspace.package] (version, rust-version, repository, ...), read
# from the Cargo.toml of the current directory or of the directory given.
workspace_field() { # field [root]
  python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[2] + "/Cargo.toml", "rb"))["workspace"]["package"][sys.argv[1]])' \
    "$1" "${2:-.}"
}

# One target directory per toolchain: the host's proc macros and build scripts are shared by
# every target built with it.
cross_target_dir() { # stable | nightly
  echo "$(tvpass_cache_dir)/cross-$1"
}

# True when rustup serves (or has installed) the prebuilt standard library of a target.
rust_std_available() { # triple
  rustup target list --installed 2>/dev/null | grep -qx "$1" && return 0
  rustup target add "$1" >/dev/null 2>&1
}

ensure_rust_src() { # toolchain
  rustup component list --installed --toolchain "$1" 2>/dev/null | grep -q '^rust-src' ||
    rustup component add rust-src --toolchain "$1" >&2
}

# The full library (the built-in HTTPS transport) as the host's cdylib, size profile: the library
# the JVM jar ships. Kept as target/release-small/libtvpass-full.so, since the mobile build below
# writes the same file name. Prints its path.
build_full_cdylib() {
  cargo rustc -q -p tvpass --lib --features ffi --crate-type cdylib --profile release-small --locked >&2
  cp target/release-small/libtvpass.so target/release-small/libtvpass-full.so
  echo target/release-small/libtvpass-full.so
}

# The mobile library (no HTTP stack of its own) as the host's cdylib, size profile, linked for
# 16 KB pages as the Android libraries are: the figure and the layout check share this build.
# Extra arguments go before `--` (e.g. --target). Prints the path of the library.
build_mobile_cdylib() { # [--target TRIPLE] [cargo args...]
  local target_dir="${CARGO_TARGET_DIR:-target}" triple_dir=""
  if [ "${1:-}" = "--target" ]; then triple_dir="$2/"; fi
  cargo rustc -q -p tvpass --lib --no-default-features --features ffi --crate-type cdylib \
    --profile release-small --locked "$@" -- -C link-arg=-Wl,-z,max-page-size=16384 >&2
  echo "$target_dir/${triple_dir}release-small/libtvpass.so"
}

# The newest llvm-TOOL-NN on PATH (cross objects come from a recent LLVM), else llvm-TOOL, else TOOL.
newest_llvm() { # tool
  local best
  best="$(compgen -c "llvm-$1-" | grep -E "^llvm-$1-[0-9]+$" | sort -t- -k3 -n | tail -n1 || true)"
  if [ -n "$best" ]; then echo "$best"; elif command -v "llvm-$1" >/dev/null; then echo "llvm-$1"; else echo "$1"; fi
}

# The FFI functions a library defines (uniffi_tvpass_*, ffi_tvpass_*), sorted, one a line.
ffi_functions() { # library (.a, or a stripped .so: its dynamic symbols)
  local dynamic=()
  case "$1" in *.so) dynamic=(--dynamic) ;; esac
  "$(newest_llvm nm)" "${dynamic[@]}" --defined-only --extern-only -j "$1" 2>/dev/null | sed 's/^_//' |
    grep -E '^(uniffi|ffi)_tvpass_' | sort -u
}
