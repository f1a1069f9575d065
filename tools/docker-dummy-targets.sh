#!/bin/sh
# Creates placeholder sources for every build target that Cargo.toml names, so that
# `cargo build` can compile the dependencies in their own Docker layer before the
# real sources are copied in (see Dockerfile). Used only inside the builder stage.
#
# Cargo refuses to read a manifest whose declared targets ([lib], [[bin]], [[bench]],
# [[test]], [[example]]) have no source file, even when it will not build them; this
# script creates each missing one (explicit `path`, or Cargo's default path), relative
# to the manifest's directory. Existing files are left alone. Targets that Cargo would
# discover by themselves (a src/main.rs not named in the manifest) are not created:
# both of the workspace's manifests name theirs.
#
# usage: docker-dummy-targets.sh [Cargo.toml]
set -eu
cd "$(dirname "${1:-Cargo.toml}")"
manifest=$(basename "${1:-Cargo.toml}")

awk '
function unquote(v) {
    sub(/^[ \t]*=[ \t]*/, "", v)
    sub(/[ \t]*(#.*)?$/, "", v)
    gsub(/^["\x27]|["\x27]$/, "", v)
    return v
}
function flush() {
    if (kind == "") return
    p = path
    if (p == "") {
        if (kind == "bench")        p = "benches/" name ".rs"
        else if (kind == "test")    p = "tests/" name ".rs"
        else if (kind == "example") p = "examples/" name ".rs"
        else if (kind == "bin")     p = (name == pkg) ? "src/main.rs" : "src/bin/" name ".rs"
        else if (kind == "lib")     p = "src/lib.rs"
    }
    if (p != "") print kind, p
    kind = ""; name = ""; path = ""
}
/^[ \t]*\[/ {
    flush()
    section = $0
    gsub(/[ \t\[\]]/, "", section)
    sub(/#.*/, "", section)
    if (section == "lib" || section == "bin" || section == "bench" || section == "test" || section == "example")
        kind = section
    next
}
/^[ \t]*name[ \t]*=/ {
    v = $0; sub(/^[ \t]*name/, "", v)
    if (section == "package") pkg = unquote(v)
    else if (kind != "") name = unquote(v)
    next
}
/^[ \t]*path[ \t]*=/ {
    if (kind != "") { v = $0; sub(/^[ \t]*path/, "", v); path = unquote(v) }
    next
}
END { flush() }
' "$manifest" | while read -r kind file; do
    [ -e "$file" ] && continue
    mkdir -p "$(dirname "$file")"
    if [ "$kind" = lib ]; then : > "$file"; else echo 'fn main() {}' > "$file"; fi
    echo "dummy $kind target: $file"
done
