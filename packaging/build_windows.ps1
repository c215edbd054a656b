<#
.SYNOPSIS
    Build the one-folder Windows program: packaging\build_windows.ps1 -Flavour cpu|directml|cuda [-Archive]

.DESCRIPTION
    Each flavour gets its own venv under build\packaging\windows-FLAVOUR\ (DFW_BUILD_DIR moves
    it), reused while its requirement list is unchanged. The list is pyproject.toml's
    dependencies with the flavour's onnxruntime package in place of onnxruntime-gpu (see
    packaging\flavour_requirements.py), plus PyInstaller; the program itself is analysed from
    this source tree. The result, build\packaging\windows-FLAVOUR\dist\DeepfakeForensicWorkstation\,
    holds DeepfakeForensicWorkstation.exe (the window), dfw.exe (the command line) and
    _internal\, and is proved by its own `dfw.exe self-test`.

    -Archive also writes the .zip parts to ship. For cuda the NVIDIA libraries
    (_internal\nvidia, well over 2 GB) are a second part, unpacked over the first; see
    packaging\README.md for installers.

.EXAMPLE
    powershell -ExecutionPolicy Bypass -File packaging\build_windows.ps1 -Flavour directml -Archive
#>
param(
    [Parameter(Mandatory = $true)][ValidateSet("cpu", "directml", "cuda")][string]$Flavour,
    [switch]$Archive,
    [string]$Python = "python"  # a Python 3.11+ on PATH, or its full path
)
$ErrorActionPreference = "Stop"

function Invoke-Checked([string]$Program, [string[]]$Arguments) {
    & $Program @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Program $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Get-FolderSize([string]$Path) {
    $bytes = (Get-ChildItem -LiteralPath $Path -Recurse -File | Measure-Object -Property Length -Sum).Sum
    return "{0:N0} MB" -f ($bytes / 1MB)
}

$Root = Split-Path -Parent $PSScriptRoot
$BuildRoot = if ($env:DFW_BUILD_DIR) { $env:DFW_BUILD_DIR } else { Join-Path $Root "build\packaging" }
$Build = Join-Path $BuildRoot "windows-$Flavour"
$Venv = Join-Path $Build "venv"
$VenvPython = Join-Path $Venv "Scripts\python.exe"
$Dist = Join-Path $Build "dist"
$App = Join-Path $Dist "DeepfakeForensicWorkstation"
$Started = Get-Date
New-Item -ItemType Directory -Force -Path $Build | Out-Null

# The flavour's requirement list; a venv made from another list is made again.
$Wanted = Join-Path $Build "requirements.wanted"
$Installed = Join-Path $Build "requirements.installed"
$List = (& $Python (Join-Path $Root "packaging\flavour_requirements.py") $Flavour)
if ($LASTEXITCODE -ne 0) { throw "cannot list the $Flavour requirements" }
$List + (Get-Content (Join-Path $Root "packaging\requirements\build.txt")) | Set-Content -Encoding utf8 $Wanted
$Same = (Test-Path $Installed) -and ((Get-FileHash $Wanted).Hash -eq (Get-FileHash $Installed).Hash)
if (-not ((Test-Path $VenvPython) -and $Same)) {
    Write-Host "== creating the $Flavour build venv"
    if (Test-Path $Venv) { Remove-Item -Recurse -Force $Venv }
    Invoke-Checked $Python @("-m", "venv", $Venv)
    Invoke-Checked $VenvPython @("-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", $Wanted)
    Copy-Item $Wanted $Installed
}
# onnxruntime, onnxruntime-gpu and onnxruntime-directml install the same module: one only.
Invoke-Checked $VenvPython @((Join-Path $Root "packaging\flavour_requirements.py"), "--check", $Flavour)

Write-Host "== freezing (windows, $Flavour)"
$env:DFW_FLAVOUR = $Flavour
Invoke-Checked $VenvPython @("-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
    "--distpath", $Dist, "--workpath", (Join-Path $Build "work"), (Join-Path $Root "packaging\dfw.spec"))

Write-Host "== self-test of the frozen program"
$env:QT_QPA_PLATFORM = "offscreen"
Invoke-Checked (Join-Path $App "dfw.exe") @("self-test")
Remove-Item Env:\QT_QPA_PLATFORM

$Seconds = [int]((Get-Date) - $Started).TotalSeconds
Write-Host "== built $App in $Seconds s: $(Get-FolderSize $App)"
$Nvidia = Join-Path $App "_internal\nvidia"
if (Test-Path $Nvidia) { Write-Host "   of which NVIDIA libraries (_internal\nvidia): $(Get-FolderSize $Nvidia)" }

if ($Archive) {
    $Version = ((& (Join-Path $App "dfw.exe") --version) | Select-Object -First 1).Split(" ")[-1]
    $Base = Join-Path $Build "DeepfakeForensicWorkstation-$Version-windows-$Flavour"
    # tar.exe (Windows 10 and later) writes zip files past Compress-Archive's 2 GB limit.
    Push-Location $Dist
    try {
        Invoke-Checked "tar.exe" @("-a", "-c", "-f", "$Base.zip", "--exclude", "DeepfakeForensicWorkstation/_internal/nvidia",
            "DeepfakeForensicWorkstation")
        Write-Host "== wrote $Base.zip"
        if (Test-Path $Nvidia) {
            Invoke-Checked "tar.exe" @("-a", "-c", "-f", "$Base-nvidia.zip", "DeepfakeForensicWorkstation/_internal/nvidia")
            Write-Host "== wrote $Base-nvidia.zip: unzip it over the same folder to run on CUDA"
        }
    } finally {
        Pop-Location
    }
}
