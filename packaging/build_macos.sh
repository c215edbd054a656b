#!/usr/bin/env bash
# Build the macOS program: packaging/build_macos.sh cpu [--archive]
#
# macOS has one flavour: plain onnxruntime on the CPU (CoreML is not used). The result is
# build/packaging/macos-cpu/dist/DeepfakeForensicWorkstation.app (the spec's BUNDLE around the
# one-folder build, which stays beside it as DeepfakeForensicWorkstation/), proved by its own
# `dfw self-test`. It is built for the machine's architecture (arm64 or x86_64): build on each
# for both. --archive also writes a .dmg. How the venv is made: packaging/build_common.sh.
set -euo pipefail

flavour="${1:-}"
archive="${2:-}"
if [ "$flavour" != "cpu" ]; then
    echo "usage: $0 cpu [--archive]   (macOS builds have the CPU flavour only)" >&2
    exit 2
fi
os="macos"
source "$(dirname "${BASH_SOURCE[0]}")/build_common.sh"

dfw_venv
dfw_freeze
dfw_self_test
bundle="$dist/DeepfakeForensicWorkstation.app"
[ -d "$bundle" ] || { echo "PyInstaller wrote no $bundle" >&2; exit 1; }
echo "== built $bundle in $((SECONDS - started)) s: $(dfw_size "$bundle")"

if [ "$archive" = "--archive" ]; then
    image="$build/DeepfakeForensicWorkstation-$(dfw_version)-macos-$(uname -m).dmg"
    rm -f "$image"
    hdiutil create -volname "Deepfake Forensic Workstation" -srcfolder "$bundle" -ov -format UDZO "$image"
    echo "== wrote $image ($(dfw_size "$image"))"
fi
