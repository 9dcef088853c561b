; The Windows installer of TraderAdmin (NSIS 3.08 or later, Modern UI 2).
;
; This file is the source of the installer. build_scripts/windows/installer.py compiles it with
; `makensis -D<NAME>=<value> … windows_installer.nsi`; every value that changes between releases
; comes in through one of the defines below, read from release.toml and the release version.
; To compile it by hand, pass the same defines, e.g.
;
;   makensis -DPRODUCT_NAME=TraderAdmin -DPRODUCT_VERSION=0.7.0 -DVI_VERSION=0.7.0.0 \
;     -DPUBLISHER="TraderAdmin Project" -DCOPYRIGHT="…" -DHOMEPAGE=https://… \
;     -DUNINST_KEY_NAME=TraderAdmin -DAPP_EXE=/path/TraderAdmin.exe -DPAYLOAD_DIR=/path/payload \
;     -DICON=/path/icon.ico -DOUTFILE=/path/TraderAdmin_Setup_v0.7.0.exe windows_installer.nsi
;
; PAYLOAD_DIR holds LICENSE.txt, README.html and config.toml.example.
; Optional: WEBVIEW2_BOOTSTRAPPER (a MicrosoftEdgeWebview2Setup.exe to embed and run when the
; runtime is missing) and SIGN_COMMAND (a command that signs the file given as its last argument
; in place; it signs the uninstaller and the finished installer).
;
; Exit codes of a silent install (/S) -- documented for administrators in README.md:
;   0  installed (or upgraded)
;   1  cancelled by the user (NSIS)
;   2  aborted: an error during installation (NSIS)
;   10 Windows is older than Windows 10
;   11 not 64-bit x64 Windows
;   12 TraderAdmin is running: close it and run the installer again; nothing was changed
;   13 installed, but the embedded WebView2 Runtime setup failed; install WebView2 separately

Unicode true
Target amd64-unicode
ManifestDPIAware true
RequestExecutionLevel admin
SetCompressor /SOLID lzma
CRCCheck on

!macro REQUIRE_DEFINE NAME
  !ifndef ${NAME}
    !error "${NAME} is not defined: pass it with makensis -D${NAME}=… (see the top of this file)"
  !endif
!macroend
!insertmacro REQUIRE_DEFINE PRODUCT_NAME
!insertmacro REQUIRE_DEFINE PRODUCT_VERSION
!insertmacro REQUIRE_DEFINE VI_VERSION
!insertmacro REQUIRE_DEFINE PUBLISHER
!insertmacro REQUIRE_DEFINE COPYRIGHT
!insertmacro REQUIRE_DEFINE HOMEPAGE
!insertmacro REQUIRE_DEFINE UNINST_KEY_NAME
!insertmacro REQUIRE_DEFINE APP_EXE
!insertmacro REQUIRE_DEFINE PAYLOAD_DIR
!insertmacro REQUIRE_DEFINE ICON
!insertmacro REQUIRE_DEFINE OUTFILE

!define APP_EXE_NAME "${PRODUCT_NAME}.exe"
!define UNINSTALLER "uninstall.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${UNINST_KEY_NAME}"
!define SHORTCUT_NAME "${PRODUCT_NAME}.lnk"
; The registry key of the Evergreen WebView2 Runtime (Microsoft's documented detection key).
!define WEBVIEW2_GUID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_DOWNLOAD "https://developer.microsoft.com/microsoft-edge/webview2/"

!define EXIT_WINDOWS_TOO_OLD 10
!define EXIT_WRONG_ARCHITECTURE 11
!define EXIT_APP_RUNNING 12
!define EXIT_WEBVIEW2_FAILED 13

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "WinVer.nsh"
!include "x64.nsh"
!include "FileFunc.nsh"

Name "${PRODUCT_NAME}"
OutFile "${OUTFILE}"
BrandingText "${PRODUCT_NAME} ${PRODUCT_VERSION}"
; A 64-bit installer reads and writes the 64-bit registry view and Program Files natively.
InstallDir "$PROGRAMFILES64\${PRODUCT_NAME}"
; Upgrades go where the previous version was installed.
InstallDirRegKey HKLM "${UNINST_KEY}" "InstallLocation"
ShowInstDetails show
ShowUninstDetails show

!ifdef SIGN_COMMAND
  ; Signs the uninstaller before it is embedded, then the finished installer.
  !uninstfinalize '${SIGN_COMMAND} "%1"' = 0
  !finalize '${SIGN_COMMAND} "%1"' = 0
!endif

;--- Pages --------------------------------------------------------------------------------------

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_UNABORTWARNING
!define MUI_WELCOMEPAGE_TEXT "This will install ${PRODUCT_NAME} ${PRODUCT_VERSION} on your computer.$\r$\n$\r$\nIf ${PRODUCT_NAME} is already installed, it is upgraded in place; your config.toml is kept.$\r$\n$\r$\nClick Next to continue."
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "${PAYLOAD_DIR}\LICENSE.txt"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
; No "run now" box: the app would run elevated, with the installer's administrator rights.
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!define MUI_COMPONENTSPAGE_TEXT_TOP "Your settings (config.toml) are kept unless you tick the box below."
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

;--- Version resource of the installer ----------------------------------------------------------

VIProductVersion "${VI_VERSION}"
VIFileVersion "${VI_VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductName" "${PRODUCT_NAME}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "ProductVersion" "${PRODUCT_VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileVersion" "${PRODUCT_VERSION}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "FileDescription" "${PRODUCT_NAME} Setup"
VIAddVersionKey /LANG=${LANG_ENGLISH} "CompanyName" "${PUBLISHER}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "LegalCopyright" "${COPYRIGHT}"
VIAddVersionKey /LANG=${LANG_ENGLISH} "OriginalFilename" "${PRODUCT_NAME}_Setup_v${PRODUCT_VERSION}.exe"

;--- Shared checks (installer and uninstaller) ----------------------------------------------------

; Ends the program: in silent mode with the exit code only, otherwise after a message.
!macro QUIT_WITH CODE MESSAGE
  SetErrorLevel ${CODE}
  ${IfNot} ${Silent}
    MessageBox MB_OK|MB_ICONSTOP "${MESSAGE}"
  ${EndIf}
  Quit
!macroend

; Sets $R0 to 1 when a process named ${APP_EXE_NAME} runs (wherever it was started from),
; else 0. Walks the Toolhelp process snapshot; PROCESSENTRY32W on x64 is 568 bytes with
; 4 bytes of padding after th32ProcessID.
!macro DEFINE_FIND_RUNNING_APP PREFIX
Function ${PREFIX}FindRunningApp
  Push $1
  Push $2
  Push $3
  Push $4
  StrCpy $R0 0
  System::Call 'kernel32::CreateToolhelp32Snapshot(i 2, i 0) p .r1'
  ${If} $1 P<> -1
    System::Call '*(&l4, i, i, i, p, i, i, i, i, i, &w260, i) p .r2'
    System::Call 'kernel32::Process32FirstW(p r1, p r2) i .r3'
    ${DoWhile} $3 <> 0
      System::Call '*$2(i, i, i, i, p, i, i, i, i, i, &w260 .r4)'
      ${If} $4 == "${APP_EXE_NAME}"
        StrCpy $R0 1
        ${Break}
      ${EndIf}
      System::Call 'kernel32::Process32NextW(p r1, p r2) i .r3'
    ${Loop}
    System::Free $2
    System::Call 'kernel32::CloseHandle(p r1)'
  ${EndIf}
  Pop $4
  Pop $3
  Pop $2
  Pop $1
FunctionEnd

; A running TraderAdmin would keep its files locked and leave a half-done upgrade or removal.
Function ${PREFIX}EnsureAppNotRunning
  Push $R0
  ${Do}
    Call ${PREFIX}FindRunningApp
    ${If} $R0 == 0
      ${Break}
    ${EndIf}
    ${IfNot} ${Silent}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION \
        "${PRODUCT_NAME} is running.$\r$\n$\r$\nClose it, then click Retry. Click Cancel to stop; nothing has been changed." \
        IDRETRY retry
    ${EndIf}
    SetErrorLevel ${EXIT_APP_RUNNING}
    Quit
    retry:
  ${Loop}
  Pop $R0
FunctionEnd
!macroend
!insertmacro DEFINE_FIND_RUNNING_APP ""
!insertmacro DEFINE_FIND_RUNNING_APP "un."

;--- Installer ------------------------------------------------------------------------------------

Function .onInit
  SetShellVarContext all
  ${IfNot} ${AtLeastWin10}
    !insertmacro QUIT_WITH ${EXIT_WINDOWS_TOO_OLD} \
      "${PRODUCT_NAME} needs Windows 10 or later. This computer runs an older version of Windows."
  ${EndIf}
  ${IfNot} ${IsNativeAMD64}
    !insertmacro QUIT_WITH ${EXIT_WRONG_ARCHITECTURE} \
      "${PRODUCT_NAME} needs 64-bit (x64) Windows. It cannot be installed on this computer."
  ${EndIf}
  Call EnsureAppNotRunning
FunctionEnd

; Sets $R0 to the installed WebView2 Runtime version, or "" when there is none.
Function FindWebView2
  ReadRegStr $R0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${If} $R0 == ""
  ${OrIf} $R0 == "0.0.0.0"
    ReadRegStr $R0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${EndIf}
  ${If} $R0 == "0.0.0.0"
    StrCpy $R0 ""
  ${EndIf}
FunctionEnd

Function EnsureWebView2
  Push $R0
  Call FindWebView2
  ${If} $R0 != ""
    DetailPrint "WebView2 Runtime $R0 is installed."
  ${Else}
    !ifdef WEBVIEW2_BOOTSTRAPPER
      DetailPrint "Installing the Microsoft Edge WebView2 Runtime…"
      InitPluginsDir
      File "/oname=$PLUGINSDIR\MicrosoftEdgeWebview2Setup.exe" "${WEBVIEW2_BOOTSTRAPPER}"
      ExecWait '"$PLUGINSDIR\MicrosoftEdgeWebview2Setup.exe" /silent /install' $R0
      ${If} $R0 != 0
        SetErrorLevel ${EXIT_WEBVIEW2_FAILED}
        DetailPrint "The WebView2 Runtime setup failed (exit code $R0)."
        MessageBox MB_OK|MB_ICONEXCLAMATION \
          "The Microsoft Edge WebView2 Runtime could not be installed (exit code $R0).$\r$\n$\r$\n${PRODUCT_NAME} needs it to start. Install it from ${WEBVIEW2_DOWNLOAD}" \
          /SD IDOK
      ${EndIf}
    !else
      DetailPrint "The Microsoft Edge WebView2 Runtime is not installed."
      MessageBox MB_OK|MB_ICONINFORMATION \
        "${PRODUCT_NAME} needs the Microsoft Edge WebView2 Runtime, which is not installed on this computer.$\r$\n$\r$\nInstallation continues. Before you start ${PRODUCT_NAME}, install the runtime from ${WEBVIEW2_DOWNLOAD}" \
        /SD IDOK
    !endif
  ${EndIf}
  Pop $R0
FunctionEnd

Section "${PRODUCT_NAME}" SecApp
  SectionIn RO
  ; The user may have started the app while the wizard was open.
  Call EnsureAppNotRunning
  Call EnsureWebView2

  SetOutPath "$INSTDIR"
  File "/oname=${APP_EXE_NAME}" "${APP_EXE}"
  File "${PAYLOAD_DIR}\config.toml.example"
  File "${PAYLOAD_DIR}\README.html"
  File "${PAYLOAD_DIR}\LICENSE.txt"
  ; Never config.toml: that is the user's file and survives upgrades and uninstalls.
  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  ; The working directory of both shortcuts is $INSTDIR (the current SetOutPath).
  CreateShortcut "$SMPROGRAMS\${SHORTCUT_NAME}" "$INSTDIR\${APP_EXE_NAME}" "" \
    "$INSTDIR\${APP_EXE_NAME}" 0
  CreateShortcut "$DESKTOP\${SHORTCUT_NAME}" "$INSTDIR\${APP_EXE_NAME}" "" \
    "$INSTDIR\${APP_EXE_NAME}" 0

  WriteRegStr HKLM "${UNINST_KEY}" "DisplayName" "${PRODUCT_NAME}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayVersion" "${PRODUCT_VERSION}"
  WriteRegStr HKLM "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKLM "${UNINST_KEY}" "URLInfoAbout" "${HOMEPAGE}"
  WriteRegStr HKLM "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${APP_EXE_NAME},0"
  WriteRegStr HKLM "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINST_KEY}" "UninstallString" '"$INSTDIR\${UNINSTALLER}"'
  WriteRegStr HKLM "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\${UNINSTALLER}" /S'
  ; What this section installs (KiB, known when the installer is compiled) plus the uninstaller.
  SectionGetSize ${SecApp} $0
  FileOpen $1 "$INSTDIR\${UNINSTALLER}" r
  FileSeek $1 0 END $2
  FileClose $1
  IntOp $2 $2 / 1024
  IntOp $0 $0 + $2
  WriteRegDWORD HKLM "${UNINST_KEY}" "EstimatedSize" $0
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINST_KEY}" "NoRepair" 1
SectionEnd

;--- Uninstaller ----------------------------------------------------------------------------------

; Removes exactly the files the installer wrote. The directory itself goes only when it is then
; empty: the user chose it and may keep other files there (never RMDir /r).
Section "un.${PRODUCT_NAME}" SecUnApp
  SectionIn RO
  Delete "$INSTDIR\${APP_EXE_NAME}"
  Delete "$INSTDIR\config.toml.example"
  Delete "$INSTDIR\README.html"
  Delete "$INSTDIR\LICENSE.txt"

  ; Shortcuts and the registration belong to this copy only if it is the registered one (an
  ; older copy elsewhere must not take the newer one's entries with it).
  ReadRegStr $0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $0 == ""
  ${OrIf} $0 == $INSTDIR
    Delete "$SMPROGRAMS\${SHORTCUT_NAME}"
    Delete "$DESKTOP\${SHORTCUT_NAME}"
    DeleteRegKey HKLM "${UNINST_KEY}"
  ${EndIf}

  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"
SectionEnd

; Off unless ticked on the components page or /REMOVECONFIG is on the command line.
Section /o "un.Remove my settings" SecUnConfig
  Delete "$INSTDIR\config.toml"
  RMDir "$INSTDIR"
  SetShellVarContext current
  Delete "$APPDATA\${PRODUCT_NAME}\config.toml"
  RMDir "$APPDATA\${PRODUCT_NAME}"
  SetShellVarContext all
SectionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecUnApp} "The program files, shortcuts and the Apps & features entry."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecUnConfig} "Also delete config.toml next to the program and in your %APPDATA%\${PRODUCT_NAME} folder."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

Function un.onInit
  SetShellVarContext all
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/REMOVECONFIG" $1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecUnConfig} ${SF_SELECTED}
  ${EndIf}
  Call un.EnsureAppNotRunning
FunctionEnd
