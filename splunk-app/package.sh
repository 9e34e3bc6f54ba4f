#!/usr/bin/env bash
# Build the Splunk app package riskscore-<version>.tgz.
#
#   splunk-app/package.sh X86_BIN AARCH64_BIN WASM OUTDIR
#
#   X86_BIN      the riskscore executable for x86_64 Linux
#                (target/release/riskscore)
#   AARCH64_BIN  the riskscore executable for aarch64 Linux
#                (target/aarch64-unknown-linux-gnu/release/riskscore)
#   WASM         the scorer module embedded in both executables
#                (target/wasm-embed/wasm32-unknown-unknown/release/scorer_wasm.wasm),
#                shipped as lib/scorer.wasm for audit
#   OUTDIR       where riskscore-<version>.tgz is written
#
# The package is reproducible: sorted names, owner and group 0, every mtime
# set to SOURCE_DATE_EPOCH (default: the last git commit's time), gzip
# without a name or timestamp.
set -euo pipefail

usage() {
    echo "usage: $0 X86_BIN AARCH64_BIN WASM OUTDIR" >&2
    exit 2
}
[[ $# -eq 4 ]] || usage
x86_bin=$1 arm_bin=$2 wasm=$3 outdir=$4

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
app_id=riskscore

die() {
    echo "package.sh: $*" >&2
    exit 1
}

# `key` of `[stanza]` in an ini-style .conf file.
conf_value() {
    awk -v stanza="[$2]" -v key="$3" '
        /^[[:space:]]*\[/ { in_stanza = ($0 == stanza) ; next }
        in_stanza {
            line = $0
            if (line ~ "^[[:space:]]*" key "[[:space:]]*=") {
                sub("^[^=]*=[[:space:]]*", "", line)
                sub("[[:space:]]*$", "", line)
                print line
                exit
            }
        }' "$1"
}

# The ELF machine of a file: x86_64, aarch64 or something else.
elf_machine() {
    local magic machine
    magic=$(od -An -tx1 -N4 "$1" | tr -d ' \n')
    [[ $magic == 7f454c46 ]] || { echo "not-elf"; return; }
    machine=$(od -An -tu2 -j18 -N2 --endian=little "$1" | tr -d ' \n')
    case $machine in
        62) echo x86_64 ;;
        183) echo aarch64 ;;
        *) echo "machine-$machine" ;;
    esac
}

for f in "$x86_bin" "$arm_bin" "$wasm"; do
    [[ -f $f ]] || die "no such file: $f"
done
[[ $(elf_machine "$x86_bin") == x86_64 ]] || die "$x86_bin is not an x86_64 ELF executable ($(elf_machine "$x86_bin"))"
[[ $(elf_machine "$arm_bin") == aarch64 ]] || die "$arm_bin is not an aarch64 ELF executable ($(elf_machine "$arm_bin"))"
[[ $(od -An -tx1 -N4 "$wasm" | tr -d ' \n') == 0061736d ]] || die "$wasm is not a WebAssembly module"

# lib/scorer.wasm is the audit copy of the module each executable embeds
# (verbatim, so `riskscore --version` prints its SHA-256): refuse a module
# from another build.
python3 - "$wasm" "$x86_bin" "$arm_bin" <<'EOF' || die "$wasm is not the module embedded in both executables (rebuild them together)"
import sys
module = open(sys.argv[1], "rb").read()
sys.exit(0 if all(module in open(exe, "rb").read() for exe in sys.argv[2:]) else 1)
EOF

version=$(conf_value "$here/default/app.conf" id version)
launcher_version=$(conf_value "$here/default/app.conf" launcher version)
package_id=$(conf_value "$here/default/app.conf" package id)
[[ -n $version ]] || die "default/app.conf: no [id] version"
[[ $version == "$launcher_version" ]] || die "default/app.conf: [id] version $version != [launcher] version $launcher_version"
[[ $package_id == "$app_id" ]] || die "default/app.conf: [package] id is '$package_id', expected '$app_id'"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
app="$stage/$app_id"
mkdir -p "$app"/{default/data/ui/views,default/data/ui/nav,metadata,models,keys,lib,bin,linux_x86_64/bin,appserver/static}

# Configuration, metadata, models, trusted keys, documentation. Only the
# named kinds of files are copied: never dotfiles, the command/ crate, or the
# packaging scripts.
cp "$here"/default/*.conf "$app/default/"
cp "$here"/default/data/ui/views/*.xml "$app/default/data/ui/views/"
cp "$here"/default/data/ui/nav/*.xml "$app/default/data/ui/nav/"
cp "$here"/metadata/*.meta "$app/metadata/"
cp "$here/README.md" "$app/README.md"
shopt -s nullglob
models=("$here"/models/*.json "$here"/models/*.txt)
keys=("$here"/keys/*.pub)
shopt -u nullglob
if ((${#models[@]})); then cp "${models[@]}" "$app/models/"; fi
if ((${#keys[@]})); then cp "${keys[@]}" "$app/keys/"; fi
ls "$app"/models/*.json >/dev/null 2>&1 || echo "package.sh: warning: no models (models/*.json)" >&2
((${#keys[@]})) || echo "package.sh: warning: no trusted keys (keys/*.pub): only allow_unsigned=true searches can load a model" >&2

# The executables: splunkd looks in <app>/<PLATFORM>/bin/ first, then in
# <app>/bin/ (commands.conf.spec, `filename`, for chunked commands).
cp "$x86_bin" "$app/linux_x86_64/bin/riskscore"
cp "$arm_bin" "$app/bin/riskscore"
cp "$wasm" "$app/lib/scorer.wasm"

# The browser dashboard (served by Splunk Web from appserver/static): its
# sources, the web build of the scorer (`make dashboard` puts it in pkg/),
# and the app's trusted keys for the page to verify signatures with.
dash="$here/appserver/static/dashboard"
[[ -f $dash/pkg/scorer_wasm.js && -f $dash/pkg/scorer_wasm_bg.wasm ]] ||
    die "$dash/pkg has no web build of the scorer (run make dashboard)"
mkdir -p "$app/appserver/static/dashboard/pkg"
cp "$dash"/*.html "$dash"/*.js "$dash"/*.css "$dash"/*.svg "$dash"/*.md "$app/appserver/static/dashboard/"
cp "$dash/pkg/scorer_wasm.js" "$dash/pkg/scorer_wasm_bg.wasm" "$app/appserver/static/dashboard/pkg/"
python3 "$here/trusted_keys.py" "$app/keys" "$app/appserver/static/dashboard/trusted-keys.json" >/dev/null
# The project-risk survey page: it loads the dashboard's scorer build, style and keys.
survey="$here/appserver/static/survey"
mkdir -p "$app/appserver/static/survey"
cp "$survey"/*.html "$survey"/*.js "$survey"/*.css "$survey"/*.json "$app/appserver/static/survey/"

find "$app" -name '.*' -exec rm -rf {} +
find "$app" -type d -exec chmod 0755 {} +
find "$app" -type f -exec chmod 0644 {} +
chmod 0755 "$app/linux_x86_64/bin/riskscore" "$app/bin/riskscore"

if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
    SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)
fi

mkdir -p "$outdir"
out="$(cd "$outdir" && pwd)/$app_id-$version.tgz"
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@$SOURCE_DATE_EPOCH" --format=gnu -cf - "$app_id" |
    gzip -9 -n >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
