#!/usr/bin/env bash
# Build the one-folder Linux program: packaging/build_linux.sh cpu|cuda [--archive]
#
# The result is build/packaging/linux-FLAVOUR/dist/DeepfakeForensicWorkstation/ (the windowed
# program, the `dfw` command line, `_internal/`, and `linux/` with the desktop files), proved
# by its own `dfw self-test`. How the venv is made: packaging/build_common.sh. --archive also
# writes the .tar.gz parts to ship; for cuda the NVIDIA libraries are a second part that is
# unpacked over the first (see packaging/README.md).
set -euo pipefail

flavour="${1:-}"
archive="${2:-}"
case "$flavour" in
    cpu|cuda) ;;
    *) echo "usage: $0 cpu|cuda [--archive]" >&2; exit 2 ;;
esac
os="linux"
source "$(dirname "${BASH_SOURCE[0]}")/build_common.sh"

dfw_venv
# PyInstaller bundles the X libraries Qt's xcb plugin links from this machine; one missing
# here would be missing from the bundle, and the window would not open where it lands.
missing="$(cd "$root" && "$venv/bin/python" -c 'from gui.display import missing_xcb_libraries as m; print(" ".join(m()))')"
if [ -n "$missing" ] && [ -z "${DFW_ALLOW_MISSING_X_LIBS:-}" ]; then
    echo "error: the build machine lacks libraries the window needs; install them first:" >&2
    echo "       sudo apt install $missing" >&2
    echo "       (DFW_ALLOW_MISSING_X_LIBS=1 builds anyway, for a target that has them itself)" >&2
    exit 2
elif [ -n "$missing" ]; then
    echo "warning: not bundled, the target system must have them: $missing" >&2
fi
dfw_freeze
# Desktop integration beside the executables: the .desktop entry, the MIME type and the
# script that installs them with the icons (those are in _internal/resources/icons).
mkdir -p "$app/linux"
cp "$root"/packaging/linux/* "$app/linux/"
dfw_self_test

echo "== built $app in $((SECONDS - started)) s: $(dfw_size "$app")"
if [ -d "$app/_internal/nvidia" ]; then
    echo "   of which NVIDIA libraries (_internal/nvidia): $(dfw_size "$app/_internal/nvidia")"
fi

if [ "$archive" = "--archive" ]; then
    base="$build/DeepfakeForensicWorkstation-$(dfw_version)-linux-$flavour"
    tar -C "$dist" --exclude "DeepfakeForensicWorkstation/_internal/nvidia" -czf "$base.tar.gz" \
        DeepfakeForensicWorkstation
    echo "== wrote $base.tar.gz ($(dfw_size "$base.tar.gz"))"
    if [ -d "$app/_internal/nvidia" ]; then
        tar -C "$dist" -czf "$base-nvidia.tar.gz" DeepfakeForensicWorkstation/_internal/nvidia
        echo "== wrote $base-nvidia.tar.gz ($(dfw_size "$base-nvidia.tar.gz")): unpack it over the same folder"
    fi
fi
