<#
.SYNOPSIS
The Windows installer's whole lifecycle on a real Windows machine (the hosted CI runners).

.DESCRIPTION
Runs, for a per-machine (/ALLUSERS) and then a per-user (/CURRENTUSER) install, each on a machine
where TraderAdmin is not installed:

  silent install (exit code 0) -> files, version resource, both shortcuts and their targets, the
  uninstall key and its values, nothing in the other scope -> TraderAdmin.exe --version and
  --selftest (directly and through the Start Menu shortcut) -> the real window (WebView2) and a
  screenshot -> an upgrade while the app runs is refused (exit code 12) -> the upgrade to the
  next version keeps config.toml -> the registered QuietUninstallString removes everything.

Each step is a JUnit test case (<ReportDir>/junit/windows-lifecycle.xml); the first failing
step stops the run with exit code 1. Screenshots go to <ReportDir>/screenshots/, self-test
reports to <ReportDir>/selftest/, the whole console output to <ReportDir>/lifecycle.log.

Needs an elevated PowerShell 7 (the hosted runners' default) and the WebView2 Runtime.
Under Wine the same lifecycle runs as `nox -s installer` (tests/wine/).

.EXAMPLE
./.ci/windows/installer-lifecycle.ps1 -Installer TraderAdmin_Setup_v0.7.0.exe -Version 0.7.0 `
    -UpgradeInstaller TraderAdmin_Setup_v99.0.0.exe -UpgradeVersion 99.0.0
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)] [string] $Installer,
    [Parameter(Mandatory = $true)] [string] $Version,
    [Parameter(Mandatory = $true)] [string] $UpgradeInstaller,
    [Parameter(Mandatory = $true)] [string] $UpgradeVersion,
    [string] $ReportDir = 'reports',
    # release.toml: [product] name, publisher, windows_uninstall_key.
    [string] $Product = 'TraderAdmin',
    [string] $Publisher = 'TraderAdmin Project',
    [string] $UninstallKeyName = 'TraderAdmin',
    [int] $TimeoutSeconds = 180
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

# Exit codes of the installer and uninstaller (build_scripts/windows_installer.nsi).
$ExitInstalled = 0
$ExitAppRunning = 12

$UninstallSubKey = "Software\Microsoft\Windows\CurrentVersion\Uninstall\$UninstallKeyName"
$WebView2Key = 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}'
$ExeName = "$Product.exe"
$ShortcutName = "$Product.lnk"
$PayloadFiles = @($ExeName, 'uninstall.exe', 'config.toml.example', 'README.html', 'LICENSE.txt')

$ReportDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ReportDir)
$Installer = (Resolve-Path -LiteralPath $Installer).Path
$UpgradeInstaller = (Resolve-Path -LiteralPath $UpgradeInstaller).Path
foreach ($folder in 'junit', 'screenshots', 'selftest') {
    New-Item -ItemType Directory -Force -Path (Join-Path $ReportDir $folder) | Out-Null
}
$RunnerName = if ($env:ImageOS) { $env:ImageOS } else { $env:COMPUTERNAME }

Add-Type -AssemblyName System.Drawing
Add-Type -AssemblyName System.Windows.Forms
Add-Type -TypeDefinition @'
using System;
using System.Runtime.InteropServices;
[StructLayout(LayoutKind.Sequential)]
public struct LifecycleRect { public int Left; public int Top; public int Right; public int Bottom; }
public static class LifecycleWin32 {
    [DllImport("user32.dll")] public static extern bool GetWindowRect(IntPtr hWnd, out LifecycleRect rect);
    [DllImport("user32.dll")] public static extern bool SetForegroundWindow(IntPtr hWnd);
    [DllImport("user32.dll")] public static extern bool ShowWindow(IntPtr hWnd, int command);
    [DllImport("user32.dll")] public static extern bool MoveWindow(IntPtr hWnd, int x, int y, int width, int height, bool repaint);
}
'@

# --- Steps and the JUnit report ----------------------------------------------------------------

$Results = [System.Collections.Generic.List[object]]::new()

# The body runs in a child scope of this function and sees the caller's variables (PowerShell
# scopes are dynamic): hence parameter names that no body uses.
function Invoke-Step {
    param([string] $StepScope, [string] $StepName, [scriptblock] $StepBody)
    Write-Host ('-> [{0}] {1}' -f $StepScope, $StepName)
    $stepWatch = [Diagnostics.Stopwatch]::StartNew()
    try {
        & $StepBody
    } catch {
        $stepFailure = $_.Exception.Message
        $Results.Add([pscustomobject]@{ Scope = $StepScope; Name = $StepName; Seconds = $stepWatch.Elapsed.TotalSeconds; Failure = $stepFailure })
        Write-Host ('FAILED [{0}] {1}: {2}' -f $StepScope, $StepName, $stepFailure)
        throw
    }
    $Results.Add([pscustomobject]@{ Scope = $StepScope; Name = $StepName; Seconds = $stepWatch.Elapsed.TotalSeconds; Failure = $null })
    Write-Host ('ok [{0}] {1} ({2:N1}s)' -f $StepScope, $StepName, $stepWatch.Elapsed.TotalSeconds)
}

function Write-JUnit {
    param([string] $Path)
    $escape = { param($text) [System.Security.SecurityElement]::Escape([string]$text) }
    $failed = @($Results | Where-Object { $null -ne $_.Failure }).Count
    $total = ($Results | Measure-Object -Property Seconds -Sum).Sum
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('<?xml version="1.0" encoding="UTF-8"?>')
    $lines.Add(('<testsuite name="{0}" tests="{1}" failures="{2}" time="{3:F1}">' -f `
            (& $escape "windows installer lifecycle on $RunnerName"), $Results.Count, $failed, $total))
    foreach ($result in $Results) {
        $open = '  <testcase classname="{0}" name="{1}" time="{2:F1}"' -f `
        (& $escape "lifecycle.$($result.Scope)"), (& $escape $result.Name), $result.Seconds
        if ($null -eq $result.Failure) {
            $lines.Add("$open/>")
        } else {
            $lines.Add("$open>")
            $lines.Add(('    <failure message="{0}"/>' -f (& $escape $result.Failure)))
            $lines.Add('  </testcase>')
        }
    }
    $lines.Add('</testsuite>')
    $temporary = "$Path.tmp"
    [IO.File]::WriteAllLines($temporary, $lines)
    Move-Item -Force -LiteralPath $temporary -Destination $Path
}

# --- Small assertions --------------------------------------------------------------------------

function Assert-That {
    param([bool] $Condition, [string] $Message)
    if (-not $Condition) { throw $Message }
}

function Assert-Equal {
    param($Actual, $Expected, [string] $What)
    if ([string]$Actual -ne [string]$Expected) {
        throw ("{0} is '{1}', expected '{2}'" -f $What, $Actual, $Expected)
    }
}

function Assert-SamePath {
    param([string] $Actual, [string] $Expected, [string] $What)
    $a = [IO.Path]::GetFullPath($Actual).TrimEnd('\')
    $e = [IO.Path]::GetFullPath($Expected).TrimEnd('\')
    if (-not [string]::Equals($a, $e, [StringComparison]::OrdinalIgnoreCase)) {
        throw ("{0} is '{1}', expected '{2}'" -f $What, $Actual, $Expected)
    }
}

function Wait-Until {
    param([scriptblock] $Condition, [string] $What, [int] $Seconds = $TimeoutSeconds)
    $deadline = (Get-Date).AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ((Get-Date) -gt $deadline) { throw "timed out after $Seconds s waiting for: $What" }
        Start-Sleep -Milliseconds 500
    }
}

# Runs a program to completion and returns its exit code (and its output, when asked).
function Invoke-Program {
    param([string] $Path, [string] $Arguments = '', [string] $WorkingDirectory = $PWD.Path, [switch] $CaptureOutput)
    Write-Host ('+ "{0}" {1}' -f $Path, $Arguments)
    $info = [System.Diagnostics.ProcessStartInfo]::new($Path, $Arguments)
    $info.UseShellExecute = $false
    $info.WorkingDirectory = $WorkingDirectory
    $info.RedirectStandardOutput = [bool]$CaptureOutput
    $process = [System.Diagnostics.Process]::Start($info)
    $output = if ($CaptureOutput) { $process.StandardOutput.ReadToEnd() } else { '' }
    if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
        $process.Kill($true)
        throw "$Path $Arguments did not finish within $TimeoutSeconds s"
    }
    Write-Host ('  exit code {0}' -f $process.ExitCode)
    return [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $output }
}

# --- The two install scopes --------------------------------------------------------------------

function Get-Scope {
    param([string] $Name)
    if ($Name -eq 'per-machine') {
        return [pscustomobject]@{
            Name       = $Name
            ScopeSwitch = '/ALLUSERS'
            InstallDir = Join-Path $env:ProgramFiles $Product
            Key        = "HKLM:\$UninstallSubKey"
            OtherKey   = "HKCU:\$UninstallSubKey"
            Shortcuts  = @(
                (Join-Path ([Environment]::GetFolderPath('CommonPrograms')) $ShortcutName),
                (Join-Path ([Environment]::GetFolderPath('CommonDesktopDirectory')) $ShortcutName))
        }
    }
    return [pscustomobject]@{
        Name       = $Name
        ScopeSwitch = '/CURRENTUSER'
        InstallDir = Join-Path $env:LOCALAPPDATA "Programs\$Product"
        Key        = "HKCU:\$UninstallSubKey"
        OtherKey   = "HKLM:\$UninstallSubKey"
        Shortcuts  = @(
            (Join-Path ([Environment]::GetFolderPath('Programs')) $ShortcutName),
            (Join-Path ([Environment]::GetFolderPath('DesktopDirectory')) $ShortcutName))
    }
}

$AllScopes = @((Get-Scope 'per-machine'), (Get-Scope 'per-user'))

function Get-OtherScope {
    param($Scope)
    return $AllScopes | Where-Object { $_.Name -ne $Scope.Name }
}

# Nothing of TraderAdmin anywhere: keys, folders, shortcuts (the config folder too with -Config).
function Assert-NothingInstalled {
    param([switch] $Config)
    foreach ($scope in $AllScopes) {
        Assert-That (-not (Test-Path -LiteralPath $scope.Key)) "$($scope.Key) exists"
        Assert-That (-not (Test-Path -LiteralPath $scope.InstallDir)) "$($scope.InstallDir) exists"
        foreach ($shortcut in $scope.Shortcuts) {
            Assert-That (-not (Test-Path -LiteralPath $shortcut)) "$shortcut exists"
        }
    }
    if ($Config) {
        # The user's settings folder, and the WebView2 data folder the window creates (Wails'
        # default: %APPDATA%\TraderAdmin.exe); "Remove my settings" removes both.
        foreach ($folder in $Product, $ExeName) {
            $userData = Join-Path $env:APPDATA $folder
            Assert-That (-not (Test-Path -LiteralPath $userData)) "$userData exists"
        }
    }
}

function Assert-Installed {
    param($Scope, [string] $ExpectedVersion)
    $dir = $Scope.InstallDir
    $exe = Join-Path $dir $ExeName
    foreach ($file in $PayloadFiles) {
        Assert-That (Test-Path -LiteralPath (Join-Path $dir $file) -PathType Leaf) "$dir\$file is missing"
    }
    $info = (Get-Item -LiteralPath $exe).VersionInfo
    Assert-Equal $info.ProductVersion $ExpectedVersion "$ExeName ProductVersion"
    Assert-Equal $info.ProductName $Product "$ExeName ProductName"

    $shell = New-Object -ComObject WScript.Shell
    foreach ($path in $Scope.Shortcuts) {
        Assert-That (Test-Path -LiteralPath $path -PathType Leaf) "shortcut $path is missing"
        $shortcut = $shell.CreateShortcut($path)
        Assert-SamePath $shortcut.TargetPath $exe "target of $path"
        Assert-SamePath $shortcut.WorkingDirectory $dir "working directory of $path"
    }

    Assert-That (Test-Path -LiteralPath $Scope.Key) "uninstall key $($Scope.Key) is missing"
    $key = Get-ItemProperty -LiteralPath $Scope.Key
    Assert-Equal $key.DisplayName $Product 'DisplayName'
    Assert-Equal $key.DisplayVersion $ExpectedVersion 'DisplayVersion'
    Assert-Equal $key.Publisher $Publisher 'Publisher'
    Assert-SamePath $key.InstallLocation $dir 'InstallLocation'
    Assert-Equal $key.DisplayIcon "$exe,0" 'DisplayIcon'
    Assert-Equal $key.UninstallString "`"$dir\uninstall.exe`"" 'UninstallString'
    Assert-Equal $key.QuietUninstallString "`"$dir\uninstall.exe`" /S" 'QuietUninstallString'
    Assert-Equal $key.NoModify 1 'NoModify'
    Assert-Equal $key.NoRepair 1 'NoRepair'
    Assert-That ($key.EstimatedSize -gt 0) "EstimatedSize is $($key.EstimatedSize)"
    Assert-That (-not [string]::IsNullOrEmpty($key.URLInfoAbout)) 'URLInfoAbout is empty'

    # The other scope stays untouched.
    $other = Get-OtherScope $Scope
    Assert-That (-not (Test-Path -LiteralPath $other.Key)) "$($other.Key) was written by a $($Scope.Name) install"
    Assert-That (-not (Test-Path -LiteralPath $other.InstallDir)) "$($other.InstallDir) was created by a $($Scope.Name) install"
    foreach ($shortcut in $other.Shortcuts) {
        Assert-That (-not (Test-Path -LiteralPath $shortcut)) "$shortcut was created by a $($Scope.Name) install"
    }
}

function Assert-Selftest {
    param($Scope, [string] $ExpectedVersion, [string] $Label, [string] $ExpectedConfig = '', [switch] $ThroughShortcut)
    $exe = Join-Path $Scope.InstallDir $ExeName
    $report = Join-Path $ReportDir "selftest\$($Scope.Name)-$Label.json"
    Remove-Item -LiteralPath $report -ErrorAction SilentlyContinue
    if ($ThroughShortcut) {
        # Explorer's way: ShellExecute on the .lnk, with the arguments appended. It does not wait.
        Start-Process -FilePath $Scope.Shortcuts[0] -ArgumentList @('--selftest', "`"$report`"")
        Wait-Until { Test-Path -LiteralPath $report } "the self-test report from $($Scope.Shortcuts[0])"
        Start-Sleep -Seconds 1 # the report is written, then the process exits
    } else {
        $run = Invoke-Program -Path $exe -Arguments "--selftest `"$report`"" -WorkingDirectory $env:TEMP
        Assert-Equal $run.ExitCode 0 "exit code of $ExeName --selftest"
    }
    $result = Get-Content -Raw -LiteralPath $report | ConvertFrom-Json
    Write-Host ($result | ConvertTo-Json -Depth 5)
    Assert-Equal $result.version $ExpectedVersion 'self-test version'
    Assert-Equal $result.os 'windows' 'self-test os'
    Assert-Equal $result.arch 'amd64' 'self-test arch'
    Assert-SamePath $result.executable $exe 'self-test executable'
    if ($ExpectedConfig) {
        Assert-SamePath $result.config.path $ExpectedConfig 'config file the app used'
        Assert-That ([bool]$result.config.parsed) "config.toml did not parse (see $report)"
    }
}

function Assert-VersionOutput {
    param($Scope, [string] $ExpectedVersion)
    $run = Invoke-Program -Path (Join-Path $Scope.InstallDir $ExeName) -Arguments '--version' -CaptureOutput
    Write-Host $run.Output
    Assert-Equal $run.ExitCode 0 "exit code of $ExeName --version"
    Assert-That ($run.Output -match "^$Product $([regex]::Escape($ExpectedVersion)) ") "--version printed '$($run.Output)'"
}

function Get-DistinctColours {
    param([System.Drawing.Bitmap] $Bitmap)
    $seen = [System.Collections.Generic.HashSet[int]]::new()
    for ($y = 0; $y -lt $Bitmap.Height; $y += 6) {
        for ($x = 0; $x -lt $Bitmap.Width; $x += 6) {
            [void]$seen.Add($Bitmap.GetPixel($x, $y).ToArgb())
        }
    }
    return $seen.Count
}

function Get-WindowShot {
    param([IntPtr] $Handle)
    $rect = [LifecycleRect]::new()
    Assert-That ([LifecycleWin32]::GetWindowRect($Handle, [ref]$rect)) 'GetWindowRect failed'
    $screen = [System.Windows.Forms.Screen]::PrimaryScreen.Bounds
    $left = [Math]::Max($rect.Left, $screen.Left)
    $top = [Math]::Max($rect.Top, $screen.Top)
    $width = [Math]::Min($rect.Right, $screen.Right) - $left
    $height = [Math]::Min($rect.Bottom, $screen.Bottom) - $top
    Assert-That ($width -ge 200 -and $height -ge 200) "the window is not on the screen ($width x $height visible)"
    $bitmap = [System.Drawing.Bitmap]::new($width, $height)
    $graphics = [System.Drawing.Graphics]::FromImage($bitmap)
    $graphics.CopyFromScreen($left, $top, 0, 0, $bitmap.Size)
    $graphics.Dispose()
    return $bitmap
}

# Starts the app, waits for its window to show the web UI (WebView2), saves a screenshot and
# leaves the app running; returns the process.
function Start-AppWindow {
    param($Scope, [string] $Screenshot)
    $exe = Join-Path $Scope.InstallDir $ExeName
    $process = Start-Process -FilePath $exe -WorkingDirectory $Scope.InstallDir -PassThru
    Wait-Until {
        $process.Refresh()
        if ($process.HasExited) { throw "$ExeName exited with code $($process.ExitCode) before opening a window" }
        $process.MainWindowHandle -ne [IntPtr]::Zero -and $process.MainWindowTitle -eq $Product
    } "a window titled '$Product'" 60
    $handle = $process.MainWindowHandle
    # The runners' screen is small (1024x768): fit the window on it (the app's minimum is 860x560).
    $screen = [System.Windows.Forms.Screen]::PrimaryScreen.WorkingArea
    [void][LifecycleWin32]::ShowWindow($handle, 9) # SW_RESTORE
    [void][LifecycleWin32]::MoveWindow($handle, $screen.Left, $screen.Top,
        [Math]::Min(1200, $screen.Width), [Math]::Min(820, $screen.Height), $true)
    [void][LifecycleWin32]::SetForegroundWindow($handle)
    # Until the web view has drawn, the window is its plain background colour.
    $script:colours = 0
    Wait-Until {
        $process.Refresh()
        if ($process.HasExited) { throw "$ExeName exited with code $($process.ExitCode) while its window was drawn" }
        $bitmap = Get-WindowShot $handle
        try { $script:colours = Get-DistinctColours $bitmap } finally { $bitmap.Dispose() }
        $script:colours -ge 64
    } 'the web view to draw the UI (64 or more colours)' 90
    Start-Sleep -Seconds 2 # let the first data load settle for the picture
    $bitmap = Get-WindowShot $handle
    try { $bitmap.Save($Screenshot, [System.Drawing.Imaging.ImageFormat]::Png) } finally { $bitmap.Dispose() }
    Write-Host ('window drawn ({0} colours), screenshot {1}' -f $script:colours, $Screenshot)
    return $process
}

function Stop-App {
    param([System.Diagnostics.Process] $Process)
    if ($Process.HasExited) { throw "$ExeName exited on its own (code $($Process.ExitCode))" }
    [void]$Process.CloseMainWindow()
    if (-not $Process.WaitForExit(15000)) {
        Write-Host "$ExeName did not close its window within 15 s; killing it"
        $Process.Kill($true)
        $Process.WaitForExit()
    }
}

# The way Apps & features and deployment tools do it: the registered QuietUninstallString.
# The uninstaller copies itself to %TEMP% and returns at once, so wait for the copy's work.
function Invoke-Uninstall {
    param($Scope, [string] $ExtraArguments = '')
    $quiet = (Get-ItemProperty -LiteralPath $Scope.Key).QuietUninstallString
    Assert-That ($quiet -match '^"([^"]+)"\s*(.*)$') "QuietUninstallString '$quiet' is not '`"path`" args'"
    $run = Invoke-Program -Path $Matches[1] -Arguments ("{0} {1}" -f $Matches[2], $ExtraArguments).Trim()
    Assert-Equal $run.ExitCode $ExitInstalled 'exit code of the uninstaller'
    $uninstaller = Join-Path $Scope.InstallDir 'uninstall.exe'
    Wait-Until { -not (Test-Path -LiteralPath $uninstaller) } "$uninstaller to be removed"
    Wait-Until { -not (Get-Process -Name 'Un_*', 'Au_' -ErrorAction SilentlyContinue) } 'the uninstaller to exit'
}

# --- The lifecycle -----------------------------------------------------------------------------

function Invoke-Lifecycle {
    param($Scope)
    $s = $Scope.Name
    $config = Join-Path $Scope.InstallDir 'config.toml'
    # Not the default (10): the self-test shows which file the app read.
    $settings = "refresh_seconds = 7`r`n"

    Invoke-Step $s 'nothing is installed before' { Assert-NothingInstalled -Config }
    Invoke-Step $s "silent install ($($Scope.ScopeSwitch)) exits 0" {
        $run = Invoke-Program -Path $Installer -Arguments "/S $($Scope.ScopeSwitch)"
        Assert-Equal $run.ExitCode $ExitInstalled 'installer exit code'
    }
    Invoke-Step $s 'files, shortcuts and uninstall key are in place' { Assert-Installed $Scope $Version }
    Invoke-Step $s 'TraderAdmin.exe --version' { Assert-VersionOutput $Scope $Version }
    Invoke-Step $s 'TraderAdmin.exe --selftest' { Assert-Selftest $Scope $Version 'installed' }
    Invoke-Step $s '--selftest through the Start Menu shortcut' {
        Assert-Selftest $Scope $Version 'shortcut' -ThroughShortcut
    }
    $script:app = $null
    Invoke-Step $s 'the real window draws its UI; screenshot' {
        $shot = Join-Path $ReportDir "screenshots\$RunnerName-$s.png"
        $script:app = Start-AppWindow $Scope $shot
    }
    Invoke-Step $s 'an upgrade while the app runs exits 12 and changes nothing' {
        try {
            $run = Invoke-Program -Path $UpgradeInstaller -Arguments '/S'
            Assert-Equal $run.ExitCode $ExitAppRunning 'installer exit code with the app running'
            Assert-Installed $Scope $Version
        } finally {
            Stop-App $script:app
        }
    }
    Invoke-Step $s 'upgrade (scope kept) exits 0 and keeps config.toml' {
        [IO.File]::WriteAllText($config, $settings)
        # No scope switch: an upgrade keeps the scope of the existing install.
        $run = Invoke-Program -Path $UpgradeInstaller -Arguments '/S'
        Assert-Equal $run.ExitCode $ExitInstalled 'upgrade exit code'
        Assert-Installed $Scope $UpgradeVersion
        Assert-Equal ([IO.File]::ReadAllText($config)) $settings 'config.toml after the upgrade'
    }
    Invoke-Step $s 'the upgraded app runs with the kept config.toml' {
        Assert-Selftest $Scope $UpgradeVersion 'upgraded' -ExpectedConfig $config
    }
    Invoke-Step $s 'uninstall keeps config.toml and removes everything else' {
        Invoke-Uninstall $Scope
        $left = @(Get-ChildItem -Force -LiteralPath $Scope.InstallDir | ForEach-Object Name)
        Assert-Equal ($left -join ',') 'config.toml' "what is left in $($Scope.InstallDir)"
        Assert-Equal ([IO.File]::ReadAllText($config)) $settings 'config.toml after uninstalling'
        Assert-That (-not (Test-Path -LiteralPath $Scope.Key)) "$($Scope.Key) is still there"
        foreach ($shortcut in $Scope.Shortcuts) {
            Assert-That (-not (Test-Path -LiteralPath $shortcut)) "$shortcut is still there"
        }
    }
    Invoke-Step $s 'reinstall, then uninstall /REMOVECONFIG leaves nothing' {
        $run = Invoke-Program -Path $UpgradeInstaller -Arguments "/S $($Scope.ScopeSwitch)"
        Assert-Equal $run.ExitCode $ExitInstalled 'installer exit code'
        Assert-Installed $Scope $UpgradeVersion
        Assert-Equal ([IO.File]::ReadAllText($config)) $settings 'config.toml after reinstalling'
        Invoke-Uninstall $Scope '/REMOVECONFIG'
        Assert-NothingInstalled -Config
    }
}

Start-Transcript -LiteralPath (Join-Path $ReportDir 'lifecycle.log') | Out-Null
$exitCode = 0
try {
    $os = Get-CimInstance Win32_OperatingSystem
    Write-Host ('{0} {1} (build {2}), PowerShell {3}, elevated: {4}' -f $os.Caption, $os.Version,
        $os.BuildNumber, $PSVersionTable.PSVersion,
        ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole(
            [Security.Principal.WindowsBuiltInRole]::Administrator))
    Invoke-Step 'machine' 'the WebView2 Runtime is installed' {
        $runtime = Get-ItemProperty -LiteralPath $WebView2Key -ErrorAction SilentlyContinue
        Assert-That ($null -ne $runtime -and $runtime.pv -and $runtime.pv -ne '0.0.0.0') `
            "no WebView2 Runtime ($WebView2Key): TraderAdmin cannot draw its window on this image"
        Write-Host "WebView2 Runtime $($runtime.pv)"
    }
    foreach ($scope in $AllScopes) { Invoke-Lifecycle $scope }
} catch {
    Write-Host "lifecycle stopped: $($_.Exception.Message)"
    Write-Host $_.ScriptStackTrace
    $exitCode = 1
} finally {
    Write-JUnit (Join-Path $ReportDir 'junit\windows-lifecycle.xml')
    $failed = @($Results | Where-Object { $null -ne $_.Failure }).Count
    Write-Host ('{0} passed, {1} failed' -f ($Results.Count - $failed), $failed)
    Stop-Transcript | Out-Null
}
exit $exitCode
