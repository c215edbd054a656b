# Shared by build_linux.sh and build_macos.sh, which source it after setting $os (linux or
# macos) and $flavour: the flavour's own venv, the freeze, the frozen program's self-test.
#
# The venv lives in build/packaging/OS-FLAVOUR/ (DFW_BUILD_DIR moves it) and is reused while
# its requirement list is unchanged. The list is pyproject.toml's dependencies with the
# flavour's onnxruntime package in place of onnxruntime-gpu (packaging/flavour_requirements.py),
# plus PyInstaller. The program itself is analysed from this source tree (the spec's pathex),
# so the project is not installed into the venv at all: not even with --no-deps, which would
# only add a second copy of engine/ and gui/ for PyInstaller to choose from.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${DFW_BUILD_DIR:-$root/build/packaging}/$os-$flavour"
python="${PYTHON:-python3}"
venv="$build/venv"
dist="$build/dist"
app="$dist/DeepfakeForensicWorkstation"
started=$SECONDS

dfw_venv() {
    local wanted="$build/requirements.wanted" installed="$build/requirements.installed"
    mkdir -p "$build"
    "$python" "$root/packaging/flavour_requirements.py" "$flavour" > "$wanted"
    cat "$root/packaging/requirements/build.txt" >> "$wanted"
    if [ ! -x "$venv/bin/python" ] || ! cmp -s "$wanted" "$installed"; then
        echo "== creating the $flavour build venv"
        rm -rf "$venv" "$installed"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$wanted"
        cp "$wanted" "$installed"
    fi
    # onnxruntime, onnxruntime-gpu and onnxruntime-directml install the same module: one only.
    "$venv/bin/python" "$root/packaging/flavour_requirements.py" --check "$flavour"
}

dfw_freeze() {
    echo "== freezing ($os, $flavour)"
    DFW_FLAVOUR="$flavour" "$venv/bin/python" -m PyInstaller --noconfirm --log-level WARN \
        --distpath "$dist" --workpath "$build/work" "$root/packaging/dfw.spec"
}

dfw_self_test() {
    echo "== self-test of the frozen program"
    QT_QPA_PLATFORM=offscreen "$app/dfw" self-test
}

dfw_size() {
    du -sh "$1" | cut -f1
}

dfw_version() {
    "$app/dfw" --version | head -n 1 | awk '{print $NF}'
}
