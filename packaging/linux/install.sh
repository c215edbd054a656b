#!/bin/sh
# Register an unpacked build with the desktop: menu entry, icon, and .dfwcase files opening
# in the program. Run it from the build folder: DeepfakeForensicWorkstation/linux/install.sh
#
#   install.sh              for this user (~/.local/share)
#   install.sh --system     for everyone (/usr/local/share; run as root)
#   install.sh --uninstall  [--system] removes what it installed
#
# The program itself stays where it was unpacked; the menu entry points at it.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
app="$(dirname "$here")"
id="deepfake-forensic-workstation"
share="${XDG_DATA_HOME:-$HOME/.local/share}"
action="install"
for arg in "$@"; do
    case "$arg" in
        --system) share="/usr/local/share" ;;
        --uninstall) action="uninstall" ;;
        *) echo "usage: $0 [--system] [--uninstall]" >&2; exit 2 ;;
    esac
done
icons="$app/_internal/resources/icons"
sizes="16 24 32 48 64 128 256 512"

refresh() {
    # Each is optional: a desktop without them picks the files up at the next login.
    command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$share/mime" || true
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$share/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
}

if [ "$action" = "uninstall" ]; then
    rm -f "$share/applications/$id.desktop" "$share/mime/packages/$id.xml" \
        "$share/icons/hicolor/scalable/apps/$id.svg"
    for size in $sizes; do rm -f "$share/icons/hicolor/${size}x${size}/apps/$id.png"; done
    refresh
    echo "removed the desktop entry, icons and the .dfwcase file type from $share"
    exit 0
fi

[ -x "$app/DeepfakeForensicWorkstation" ] || { echo "$app holds no DeepfakeForensicWorkstation program" >&2; exit 1; }
mkdir -p "$share/applications" "$share/mime/packages" "$share/icons/hicolor/scalable/apps"
# Exec and TryExec name the program by its full path, quoted for folders with spaces.
sed -e "s|^Exec=.*|Exec=\"$app/DeepfakeForensicWorkstation\" %f|" \
    -e "s|^TryExec=.*|TryExec=$app/DeepfakeForensicWorkstation|" \
    "$here/$id.desktop" > "$share/applications/$id.desktop"
cp "$here/$id.xml" "$share/mime/packages/$id.xml"
cp "$icons/dfw.svg" "$share/icons/hicolor/scalable/apps/$id.svg"
for size in $sizes; do
    mkdir -p "$share/icons/hicolor/${size}x${size}/apps"
    cp "$icons/dfw-$size.png" "$share/icons/hicolor/${size}x${size}/apps/$id.png"
done
refresh
echo "installed the desktop entry, icons and the .dfwcase file type into $share"
