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
;   14 a file, shortcut or registry value could not be written (e.g. TraderAdmin.exe locked);
;      the previous version, its shortcuts and registration were put back; nothing was changed
;   15 TraderAdmin is already installed in another folder (for this scope); /D= is refused:
;      upgrade it in place (leave out /D=) or uninstall it first; nothing was changed
;   16 the Microsoft Edge WebView2 Runtime is missing and this installer has no bootstrapper
;      (silent mode only); nothing was changed
;   17 an all-users install (or uninstall) needs administrator rights this process does not
;      have; nothing was changed
;   18 /ALLUSERS and /CURRENTUSER given together; nothing was changed
;   19 an all-users install into an existing folder that users other than the administrators
;      can write to (they could replace the program or its uninstaller); nothing was changed
;   20 TraderAdmin is installed by its MSI package (a managed installation): upgrade it with a
;      newer MSI, or remove it (msiexec /x) first; nothing was changed
;
; Scope: /CURRENTUSER installs for the current user only, without administrator rights, into
; %LOCALAPPDATA%\Programs\TraderAdmin (HKCU uninstall key, the user's own shortcuts);
; /ALLUSERS installs for every user into C:\Program Files\TraderAdmin (HKLM, the common
; shortcuts). Without either, an installed TraderAdmin keeps its scope (per-user first), else an
; administrator gets an all-users install and anyone else a per-user one. There is at most one
; installation per scope: a new version upgrades the registered one in place.

Unicode true
Target amd64-unicode
ManifestDPIAware true
SetCompressor /SOLID lzma
CRCCheck on
; A file that cannot be written stops the installation instead of being skipped (silent mode
; would otherwise skip it without asking and report success).
AllowSkipFiles off

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
; The MSI's UpgradeCode (release.toml [windows] msi_upgrade_code): an installed MSI is refused.
!insertmacro REQUIRE_DEFINE MSI_UPGRADE_CODE

!define APP_EXE_NAME "${PRODUCT_NAME}.exe"
!define UNINSTALLER "uninstall.exe"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${UNINST_KEY_NAME}"
!define SHORTCUT_NAME "${PRODUCT_NAME}.lnk"
; The registry key of the Evergreen WebView2 Runtime (Microsoft's documented detection key).
!define WEBVIEW2_GUID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_DOWNLOAD "https://developer.microsoft.com/microsoft-edge/webview2/"
; An upgrade writes the new files here first, and moves the previous ones aside to the backup
; folder; both are removed when the installation is complete (or rolled back).
!define STAGE_DIR "$INSTDIR\~${PRODUCT_NAME}.new"
!define BACKUP_DIR "$INSTDIR\~${PRODUCT_NAME}.old"

!define EXIT_WINDOWS_TOO_OLD 10
!define EXIT_WRONG_ARCHITECTURE 11
!define EXIT_APP_RUNNING 12
!define EXIT_WEBVIEW2_FAILED 13
!define EXIT_WRITE_FAILED 14
!define EXIT_OTHER_FOLDER 15
!define EXIT_WEBVIEW2_MISSING 16
!define EXIT_NOT_ELEVATED 17
!define EXIT_CONFLICTING_SCOPES 18
!define EXIT_FOLDER_WRITABLE 19
!define EXIT_MSI_INSTALLED 20

; The permissions of a per-machine install folder, as Program Files has them: owned by the
; Administrators, who and SYSTEM may do anything, Users may read and run (0x1200a9); nothing
; inherited from the parent (C:\ lets every signed-in user create and change files). Otherwise a
; standard user could replace uninstall.exe, which Apps & features runs as administrator.
!define MACHINE_FOLDER_SDDL "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
; Rights over a folder that let someone change what is in it: add files (0x2), add folders
; (0x4), delete children (0x40), delete (0x10000), change its permissions (0x40000) or owner
; (0x80000), GENERIC_ALL (0x10000000), GENERIC_WRITE (0x40000000).
!define FOLDER_WRITE_RIGHTS 0x500D0046

; Per-user or per-machine (NSIS's MultiUser.nsh): "Highest" asks administrators for elevation
; and lets everyone else install for themselves without it.
!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR "${PRODUCT_NAME}"
; Each scope's registration says where that scope's installation is (upgrades go there).
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "${UNINST_KEY}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallLocation"
; The uninstaller finds its scope itself (un.onInit).
!define MULTIUSER_NOUNINSTALL

!include "MUI2.nsh"
!include "MultiUser.nsh"
!include "LogicLib.nsh"
!include "WinVer.nsh"
!include "x64.nsh"
!include "FileFunc.nsh"

Name "${PRODUCT_NAME}"
OutFile "${OUTFILE}"
BrandingText "${PRODUCT_NAME} ${PRODUCT_VERSION}"
; No InstallDir: $INSTDIR is empty in .onInit unless /D= was given (ChooseDirectory tells them
; apart); MultiUser.nsh sets the scope's default (Program Files or %LOCALAPPDATA%\Programs).
ShowInstDetails show
ShowUninstDetails show

!ifdef SIGN_COMMAND
  ; Signs the uninstaller before it is embedded, then the finished installer.
  !uninstfinalize '${SIGN_COMMAND} "%1"' = 0
  !finalize '${SIGN_COMMAND} "%1"' = 0
!endif

Var CommandLineDir   ; /D=, or empty
Var RegisteredDir    ; InstallLocation of this scope's installation, or empty
Var ScopeFixed       ; 1: the command line or an existing installation chose the scope
Var Phase            ; how far the installation got (see Rollback)
Var CreatedInstDir   ; 1: this run created $INSTDIR
Var HadRegistration  ; 1: this scope had an uninstall key before
Var UnScope          ; the uninstaller's scope: AllUsers or CurrentUser

;--- Pages --------------------------------------------------------------------------------------

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_UNABORTWARNING
!define MUI_WELCOMEPAGE_TEXT "This will install ${PRODUCT_NAME} ${PRODUCT_VERSION} on your computer.$\r$\n$\r$\nIf ${PRODUCT_NAME} is already installed, it is upgraded in place; your config.toml is kept.$\r$\n$\r$\nClick Next to continue."
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "${PAYLOAD_DIR}\LICENSE.txt"
; "For anyone who uses this computer" or "Only for me" (administrators only; skipped when the
; command line or an existing installation already decided).
!define MULTIUSER_PAGE_CUSTOMFUNCTION_PRE SkipWhenScopeFixed
!define MULTIUSER_PAGE_CUSTOMFUNCTION_LEAVE ChooseDirectory
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!define MUI_PAGE_CUSTOMFUNCTION_PRE SkipWhenUpgrading
!define MUI_PAGE_CUSTOMFUNCTION_LEAVE LeaveDirectoryPage
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

; An all-users (un)install writes to HKLM and Program Files: check that this process really
; holds administrator rights (a declined or unavailable elevation leaves a standard token).
Function ${PREFIX}EnsureElevated
  Push $0
  UserInfo::GetAccountType
  Pop $0
  ${If} $0 != "Admin"
    !insertmacro QUIT_WITH ${EXIT_NOT_ELEVATED} \
      "Installing or removing ${PRODUCT_NAME} for all users needs administrator rights.$\r$\n$\r$\nRun this program as administrator, or install ${PRODUCT_NAME} only for yourself (/CURRENTUSER). Nothing has been changed."
  ${EndIf}
  Pop $0
FunctionEnd
!macroend
!insertmacro DEFINE_FIND_RUNNING_APP ""
!insertmacro DEFINE_FIND_RUNNING_APP "un."

; The files the installer puts into $INSTDIR; the program comes last, so that a locked program
; file is found after the others were moved aside (and they are moved back).
!macro FOR_EACH_PROGRAM_FILE MACRO
  !insertmacro ${MACRO} "${UNINSTALLER}"
  !insertmacro ${MACRO} "LICENSE.txt"
  !insertmacro ${MACRO} "README.html"
  !insertmacro ${MACRO} "config.toml.example"
  !insertmacro ${MACRO} "${APP_EXE_NAME}"
!macroend

; The registration's values; an upgrade keeps the previous ones until the new files are in place.
!macro FOR_EACH_REGISTRY_STRING MACRO
  !insertmacro ${MACRO} DisplayName
  !insertmacro ${MACRO} DisplayVersion
  !insertmacro ${MACRO} Publisher
  !insertmacro ${MACRO} URLInfoAbout
  !insertmacro ${MACRO} DisplayIcon
  !insertmacro ${MACRO} InstallLocation
  !insertmacro ${MACRO} UninstallString
  !insertmacro ${MACRO} QuietUninstallString
!macroend
!macro FOR_EACH_REGISTRY_DWORD MACRO
  !insertmacro ${MACRO} EstimatedSize
  !insertmacro ${MACRO} NoModify
  !insertmacro ${MACRO} NoRepair
!macroend
!macro DECLARE_PREVIOUS NAME
  Var Previous${NAME}
!macroend
!insertmacro FOR_EACH_REGISTRY_STRING DECLARE_PREVIOUS
!insertmacro FOR_EACH_REGISTRY_DWORD DECLARE_PREVIOUS

;--- Installer: decisions before anything is changed ----------------------------------------------

Function .onInit
  StrCpy $CommandLineDir $INSTDIR
  ${IfNot} ${AtLeastWin10}
    !insertmacro QUIT_WITH ${EXIT_WINDOWS_TOO_OLD} \
      "${PRODUCT_NAME} needs Windows 10 or later. This computer runs an older version of Windows."
  ${EndIf}
  ${IfNot} ${IsNativeAMD64}
    !insertmacro QUIT_WITH ${EXIT_WRONG_ARCHITECTURE} \
      "${PRODUCT_NAME} needs 64-bit (x64) Windows. It cannot be installed on this computer."
  ${EndIf}
  Call RefuseBesideTheMsi
  !insertmacro MULTIUSER_INIT
  Call ChooseScope
  Call ChooseDirectory
  ${If} ${Silent}
    Call EnsureMachineFolderIsSafe
  ${EndIf}
  Call EnsureAppNotRunning
  !ifndef WEBVIEW2_BOOTSTRAPPER
    ; The wizard says what to install (EnsureWebView2); a silent install must not report
    ; success for an app that cannot start.
    ${If} ${Silent}
      Push $R0
      Call FindWebView2
      ${If} $R0 == ""
        SetErrorLevel ${EXIT_WEBVIEW2_MISSING}
        Quit
      ${EndIf}
      Pop $R0
    ${EndIf}
  !endif
FunctionEnd

; The MSI and this installer never fight over one machine: the MSI is what an administrator
; deployed (Intune, ConfigMgr, Group Policy), and a second copy beside it, or files replaced under
; it, would break its repair, upgrade and removal. So this installer refuses, in either scope,
; and says how to proceed (README, "MSI and NSIS"). Windows Installer knows the installed
; products by UpgradeCode.
Function RefuseBesideTheMsi
  Push $0
  Push $1
  System::Call 'msi::MsiEnumRelatedProductsW(w "${MSI_UPGRADE_CODE}", i 0, i 0, w .r1) i .r0'
  ${If} $0 = 0
    !insertmacro QUIT_WITH ${EXIT_MSI_INSTALLED} \
      "${PRODUCT_NAME} is installed on this computer by its Windows Installer package (product $1), usually by your administrator.$\r$\n$\r$\nUpgrade it with a newer ${PRODUCT_NAME} MSI, or remove it first (msiexec /x $1). Nothing has been changed."
  ${EndIf}
  Pop $1
  Pop $0
FunctionEnd

; /ALLUSERS, /CURRENTUSER, else the scope of an existing installation (per-user first), else
; MultiUser.nsh's default (all users for administrators, per-user for everyone else).
Function ChooseScope
  Push $0
  Push $1
  Push $2
  ${GetParameters} $0
  StrCpy $2 ""
  ClearErrors
  ${GetOptions} $0 "/ALLUSERS" $1
  ${IfNot} ${Errors}
    StrCpy $2 "AllUsers"
  ${EndIf}
  ClearErrors
  ${GetOptions} $0 "/CURRENTUSER" $1
  ${IfNot} ${Errors}
    ${If} $2 != ""
      !insertmacro QUIT_WITH ${EXIT_CONFLICTING_SCOPES} \
        "Use either /ALLUSERS or /CURRENTUSER, not both. Nothing has been changed."
    ${EndIf}
    StrCpy $2 "CurrentUser"
  ${EndIf}
  ${If} $2 == ""
    ReadRegStr $1 HKCU "${UNINST_KEY}" "InstallLocation"
    ${If} $1 != ""
      StrCpy $2 "CurrentUser"
    ${Else}
      ReadRegStr $1 HKLM "${UNINST_KEY}" "InstallLocation"
      ${If} $1 != ""
        StrCpy $2 "AllUsers"
      ${EndIf}
    ${EndIf}
  ${EndIf}
  ${If} $2 == "AllUsers"
    Call EnsureElevated
    Call MultiUser.InstallMode.AllUsers
    StrCpy $ScopeFixed 1
  ${ElseIf} $2 == "CurrentUser"
    Call MultiUser.InstallMode.CurrentUser
    StrCpy $ScopeFixed 1
  ${ElseIf} $MultiUser.InstallMode == "AllUsers"
    Call EnsureElevated
  ${EndIf}
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

; Sets $INSTDIR: the registered installation of the chosen scope (upgrade in place), or /D=, or
; the scope's default. A non-empty folder that is not a TraderAdmin installation gets
; \${PRODUCT_NAME} appended; a /D= other than the registered installation is refused.
Function ChooseDirectory
  ; SHCTX is HKLM or HKCU, as MultiUser.nsh set the shell context for the scope.
  ReadRegStr $RegisteredDir SHCTX "${UNINST_KEY}" "InstallLocation"
  ${If} $CommandLineDir != ""
    StrCpy $INSTDIR $CommandLineDir
    Call AppendProductToForeignDir
    ${If} $RegisteredDir != ""
    ${AndIf} $INSTDIR != $RegisteredDir
      !insertmacro QUIT_WITH ${EXIT_OTHER_FOLDER} \
        "${PRODUCT_NAME} is already installed in $RegisteredDir.$\r$\n$\r$\nRun this installer without /D= to upgrade it there, or uninstall it first. Nothing has been changed."
    ${EndIf}
  ${ElseIf} $RegisteredDir != ""
    StrCpy $INSTDIR $RegisteredDir
  ${EndIf}
FunctionEnd

; Sets $R9 to 1 when $INSTDIR holds anything, else 0.
Function IsInstDirEmpty
  Push $0
  Push $1
  StrCpy $R9 0
  ClearErrors
  FindFirst $0 $1 "$INSTDIR\*"
  ${Do}
    ${If} ${Errors}
    ${OrIf} $1 == ""
      ${Break}
    ${EndIf}
    ${If} $1 != "."
    ${AndIf} $1 != ".."
      StrCpy $R9 1
      ${Break}
    ${EndIf}
    FindNext $0 $1
  ${Loop}
  FindClose $0
  Pop $1
  Pop $0
FunctionEnd

; A folder named after the product (the default, or one we appended before) is ours even when
; it is not empty: an uninstall keeps config.toml there, and a reinstall must find it again
; instead of going one folder deeper. So is a folder with an interrupted run's leftovers.
Function AppendProductToForeignDir
  Push $R9
  Push $R8
  StrLen $R8 "\${PRODUCT_NAME}"
  StrCpy $R8 $INSTDIR "" -$R8
  ${If} $INSTDIR != $RegisteredDir
  ${AndIfNot} ${FileExists} "$INSTDIR\${APP_EXE_NAME}"
  ${AndIfNot} ${FileExists} "${STAGE_DIR}\*.*"
  ${AndIfNot} ${FileExists} "${BACKUP_DIR}\*.*"
  ${AndIf} $R8 != "\${PRODUCT_NAME}"
    Call IsInstDirEmpty
    ${If} $R9 == 1
      StrCpy $INSTDIR "$INSTDIR\${PRODUCT_NAME}"
    ${EndIf}
  ${EndIf}
  Pop $R8
  Pop $R9
FunctionEnd

; Sets $R9 to the current user's SID (S-1-5-21-…), or "".
Function FindOwnSid
  Push $0
  Push $1
  Push $2
  Push $3
  StrCpy $R9 ""
  System::Call 'advapi32::OpenProcessToken(p -1, i 8, *p .r0) i .r1'
  ${If} $1 <> 0
    System::Alloc 256
    Pop $1
    ; TokenUser (1): a TOKEN_USER, whose first member points to the SID.
    System::Call 'advapi32::GetTokenInformation(p r0, i 1, p r1, i 256, *i .r3) i .r2'
    ${If} $2 <> 0
      System::Call '*$1(p .r2)'
      System::Call 'advapi32::ConvertSidToStringSidW(p r2, *p .r2) i .r3'
      ${If} $3 <> 0
        System::Call '*$2(&w256 .R9)'
        System::Call 'kernel32::LocalFree(p r2)'
      ${EndIf}
    ${EndIf}
    System::Free $1
    System::Call 'kernel32::CloseHandle(p r0)'
  ${EndIf}
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

; Sets $R8 to 1 when someone other than SYSTEM, TrustedInstaller, the Administrators and this
; user may add, delete or replace files in $INSTDIR (or its permissions cannot be read, or it
; has none, as on FAT), else 0. Only allow entries that apply to the folder itself count.
Function IsInstDirWritableByOthers
  Push $0
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  Push $6
  Push $R9
  Call FindOwnSid
  StrCpy $R8 1
  ; SE_FILE_OBJECT (1), DACL_SECURITY_INFORMATION (4).
  System::Call 'advapi32::GetNamedSecurityInfoW(w "$INSTDIR", i 1, i 4, p 0, p 0, *p .r1, p 0, *p .r2) i .r0'
  ${If} $0 = 0
    ${If} $1 P<> 0
      StrCpy $R8 0
      System::Call '*$1(&i1, &i1, &i2, &i2 .r3)'
      StrCpy $4 0
      ${DoWhile} $4 < $3
        System::Call 'advapi32::GetAce(p r1, i r4, *p .r5) i .r0'
        ${If} $0 = 0
          StrCpy $R8 1
          ${Break}
        ${EndIf}
        ; ACE_HEADER (type, flags, size), then the access mask and the SID.
        System::Call '*$5(&i1 .r0, &i1 .r6, &i2, i .r5)'
        IntOp $6 $6 & 0x08  ; INHERIT_ONLY_ACE: not for the folder itself
        IntOp $5 $5 & ${FOLDER_WRITE_RIGHTS}
        ${If} $0 = 0  ; ACCESS_ALLOWED_ACE_TYPE
        ${AndIf} $6 = 0
        ${AndIf} $5 <> 0
          System::Call 'advapi32::GetAce(p r1, i r4, *p .r5)'
          IntPtrOp $5 $5 + 8
          System::Call 'advapi32::ConvertSidToStringSidW(p r5, *p .r5) i .r0'
          StrCpy $6 ""
          ${If} $0 <> 0
            System::Call '*$5(&w256 .r6)'
            System::Call 'kernel32::LocalFree(p r5)'
          ${EndIf}
          ${If} $6 != "S-1-5-18"
          ${AndIf} $6 != "S-1-5-32-544"
          ${AndIf} $6 != "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
          ${AndIf} $6 != $R9
            DetailPrint "$6 may change the files in $INSTDIR."
            StrCpy $R8 1
            ${Break}
          ${EndIf}
        ${EndIf}
        IntOp $4 $4 + 1
      ${Loop}
    ${EndIf}
    System::Call 'kernel32::LocalFree(p r2)'
  ${EndIf}
  Pop $R9
  Pop $6
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

; An all-users install into a folder that already exists and is not this scope's installation
; (an upgrade re-applies MACHINE_FOLDER_SDDL instead): refused when other users can write to it.
; Sets $R8 to 1 when refused (the wizard stays on its directory page), else 0.
Function CheckMachineFolder
  StrCpy $R8 0
  ${If} $MultiUser.InstallMode == "AllUsers"
  ${AndIf} $INSTDIR != $RegisteredDir
  ${AndIf} ${FileExists} "$INSTDIR\*.*"
    Call IsInstDirWritableByOthers
  ${EndIf}
FunctionEnd

Function EnsureMachineFolderIsSafe
  Push $R8
  Call CheckMachineFolder
  ${If} $R8 == 1
    !insertmacro QUIT_WITH ${EXIT_FOLDER_WRITABLE} \
      "$INSTDIR can be changed by users who are not administrators: they could replace ${PRODUCT_NAME} or its uninstaller, which runs with administrator rights.$\r$\n$\r$\nChoose a new folder (the installer makes it and sets its permissions) or restrict this one to administrators. Nothing has been changed."
  ${EndIf}
  Pop $R8
FunctionEnd

; Sets the permissions of MACHINE_FOLDER_SDDL on $INSTDIR (all-users installs only); the files
; in it inherit them. Sets the error flag when that fails.
Function SecureMachineFolder
  Push $0
  Push $1
  Push $2
  Push $3
  ${If} $MultiUser.InstallMode == "AllUsers"
    ; SDDL_REVISION_1 (1).
    System::Call 'advapi32::ConvertStringSecurityDescriptorToSecurityDescriptorW(w "${MACHINE_FOLDER_SDDL}", i 1, *p .r1, p 0) i .r0'
    ${If} $0 = 0
      SetErrors
    ${Else}
      System::Call 'advapi32::GetSecurityDescriptorOwner(p r1, *p .r2, *i .r0)'
      System::Call 'advapi32::GetSecurityDescriptorDacl(p r1, *i .r0, *p .r3, *i .r0)'
      ; OWNER (1) | DACL (4) | PROTECTED_DACL (0x80000000): nothing inherited from above.
      System::Call 'advapi32::SetNamedSecurityInfoW(w "$INSTDIR", i 1, i 0x80000005, p r2, p 0, p r3, p 0) i .r0'
      ${If} $0 <> 0
        DetailPrint "Setting the permissions of $INSTDIR failed (error $0)."
        SetErrors
      ${EndIf}
      System::Call 'kernel32::LocalFree(p r1)'
    ${EndIf}
  ${EndIf}
  Pop $3
  Pop $2
  Pop $1
  Pop $0
FunctionEnd

Function SkipWhenScopeFixed
  ${If} $ScopeFixed == 1
    Abort
  ${EndIf}
FunctionEnd

Function SkipWhenUpgrading
  ${If} $RegisteredDir != ""
    Abort
  ${EndIf}
FunctionEnd

; The user's own folder: show the subfolder that will be used and let them confirm it.
Function LeaveDirectoryPage
  Push $0
  Push $1
  StrCpy $0 $INSTDIR
  Call AppendProductToForeignDir
  Push $R8
  Call CheckMachineFolder
  ${If} $R8 == 1
    MessageBox MB_OK|MB_ICONEXCLAMATION \
      "$INSTDIR can be changed by users who are not administrators: they could replace ${PRODUCT_NAME} or its uninstaller, which runs with administrator rights.$\r$\n$\r$\nChoose a new folder (the installer makes it and sets its permissions) or restrict this one to administrators."
    StrCpy $INSTDIR $0
    Pop $R8
    Pop $1
    Pop $0
    Abort
  ${EndIf}
  Pop $R8
  ${If} $0 != $INSTDIR
    FindWindow $1 "#32770" "" $HWNDPARENT
    GetDlgItem $1 $1 1019
    SendMessage $1 ${WM_SETTEXT} 0 "STR:$INSTDIR"
    MessageBox MB_OK|MB_ICONINFORMATION \
      "$0 already holds other files. ${PRODUCT_NAME} gets its own folder in it:$\r$\n$\r$\n$INSTDIR"
    Pop $1
    Pop $0
    Abort
  ${EndIf}
  Pop $1
  Pop $0
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

;--- Installer: the transaction -------------------------------------------------------------------
;
; Phases: stage (new files written to STAGE_DIR), aside (previous files moved to BACKUP_DIR),
; movein (new files moved into $INSTDIR), shortcuts, registry, done. Any failure sets
; EXIT_WRITE_FAILED and aborts; .onInstFailed then undoes every phase reached (Rollback).

!macro FAIL_UNLESS_OK WHAT
  ${If} ${Errors}
    DetailPrint "Could not ${WHAT}."
    SetErrorLevel ${EXIT_WRITE_FAILED}
    Abort "Could not ${WHAT}; the previous state is being restored."
  ${EndIf}
!macroend

!macro STAGE_FILE NAME
  ; AllowSkipFiles off: a failed write aborts the installation (.onInstFailed).
  File "/oname=${NAME}" "${PAYLOAD_DIR}\${NAME}"
!macroend

!macro MOVE_ASIDE NAME
  ${If} ${FileExists} "$INSTDIR\${NAME}"
    ClearErrors
    Rename "$INSTDIR\${NAME}" "${BACKUP_DIR}\${NAME}"
    !insertmacro FAIL_UNLESS_OK "replace $INSTDIR\${NAME} (is it locked?)"
  ${EndIf}
!macroend

!macro MOVE_IN NAME
  ClearErrors
  Rename "${STAGE_DIR}\${NAME}" "$INSTDIR\${NAME}"
  !insertmacro FAIL_UNLESS_OK "write $INSTDIR\${NAME}"
!macroend

!macro CHECK_IN_PLACE NAME
  ClearErrors
  ${IfNot} ${FileExists} "$INSTDIR\${NAME}"
    SetErrors
  ${EndIf}
  !insertmacro FAIL_UNLESS_OK "find $INSTDIR\${NAME} after writing it"
!macroend

!macro SAVE_STRING NAME
  ReadRegStr $Previous${NAME} SHCTX "${UNINST_KEY}" "${NAME}"
!macroend
!macro SAVE_DWORD NAME
  ClearErrors
  ReadRegDWORD $Previous${NAME} SHCTX "${UNINST_KEY}" "${NAME}"
  ${If} ${Errors}
    StrCpy $Previous${NAME} ""
  ${EndIf}
!macroend
!macro RESTORE_STRING NAME
  ${If} $Previous${NAME} != ""
    WriteRegStr SHCTX "${UNINST_KEY}" "${NAME}" $Previous${NAME}
  ${Else}
    DeleteRegValue SHCTX "${UNINST_KEY}" "${NAME}"
  ${EndIf}
!macroend
!macro RESTORE_DWORD NAME
  ${If} $Previous${NAME} != ""
    WriteRegDWORD SHCTX "${UNINST_KEY}" "${NAME}" $Previous${NAME}
  ${Else}
    DeleteRegValue SHCTX "${UNINST_KEY}" "${NAME}"
  ${EndIf}
!macroend

!macro WRITE_STRING NAME VALUE
  ClearErrors
  WriteRegStr SHCTX "${UNINST_KEY}" "${NAME}" `${VALUE}`
  !insertmacro FAIL_UNLESS_OK "write the registry value ${NAME}"
!macroend
!macro WRITE_DWORD NAME VALUE
  ClearErrors
  WriteRegDWORD SHCTX "${UNINST_KEY}" "${NAME}" `${VALUE}`
  !insertmacro FAIL_UNLESS_OK "write the registry value ${NAME}"
!macroend

!macro DELETE_NEW NAME
  Delete "$INSTDIR\${NAME}"
!macroend
!macro RESTORE_OLD NAME
  ${If} ${FileExists} "${BACKUP_DIR}\${NAME}"
    ClearErrors
    Rename "${BACKUP_DIR}\${NAME}" "$INSTDIR\${NAME}"
    ${If} ${Errors}
      DetailPrint "Could not restore $INSTDIR\${NAME} from ${BACKUP_DIR}."
      SetErrorLevel 2
    ${EndIf}
  ${EndIf}
!macroend
!macro DELETE_STAGED NAME
  Delete "${STAGE_DIR}\${NAME}"
!macroend
!macro DELETE_BACKUP NAME
  Delete "${BACKUP_DIR}\${NAME}"
!macroend

; A shortcut is copied aside before it is replaced, and copied back by a rollback.
!macro BACK_UP_SHORTCUT LINK NAME
  ${If} ${FileExists} "${LINK}"
    ClearErrors
    System::Call 'kernel32::CopyFileW(w "${LINK}", w "${BACKUP_DIR}\${NAME}", i 0) i .r0'
    ${If} $0 == 0
      SetErrors
    ${EndIf}
    !insertmacro FAIL_UNLESS_OK "back up ${LINK}"
  ${EndIf}
!macroend
!macro RESTORE_SHORTCUT LINK NAME
  ${If} ${FileExists} "${BACKUP_DIR}\${NAME}"
    System::Call 'kernel32::CopyFileW(w "${BACKUP_DIR}\${NAME}", w "${LINK}", i 0) i .r0'
    Delete "${BACKUP_DIR}\${NAME}"
  ${Else}
    Delete "${LINK}"
  ${EndIf}
!macroend

; Recovery of a run that was cut off (power loss, killed): its phases leave a state on disk
; that says which version is whole. While a program file is still staged, or one is missing
; from $INSTDIR, the new files were not all moved in: every file in the backup is the previous
; version's (any copy of it in $INSTDIR is a new one moved in), so the backup goes back. Once
; every staged file is in $INSTDIR, that is the whole newer version (shortcuts and registration
; come after it and are written again by this run), and the backup is no longer needed.
!macro FIND_STAGED NAME
  ${If} ${FileExists} "${STAGE_DIR}\${NAME}"
    StrCpy $R1 1
  ${EndIf}
!macroend
!macro FIND_MISSING NAME
  ${IfNot} ${FileExists} "$INSTDIR\${NAME}"
    StrCpy $R1 1
  ${EndIf}
!macroend
!macro FIND_BACKED_UP NAME
  ${If} ${FileExists} "${BACKUP_DIR}\${NAME}"
    StrCpy $R2 1
  ${EndIf}
!macroend
!macro RECOVER_OLD NAME
  ${If} ${FileExists} "${BACKUP_DIR}\${NAME}"
    Delete "$INSTDIR\${NAME}"
    ClearErrors
    Rename "${BACKUP_DIR}\${NAME}" "$INSTDIR\${NAME}"
    !insertmacro FAIL_UNLESS_OK "restore $INSTDIR\${NAME} from ${BACKUP_DIR}"
  ${EndIf}
!macroend
!macro RECOVER_SHORTCUT LINK NAME
  ${IfNot} ${FileExists} "${LINK}"
  ${AndIf} ${FileExists} "${BACKUP_DIR}\${NAME}"
    System::Call 'kernel32::CopyFileW(w "${BACKUP_DIR}\${NAME}", w "${LINK}", i 0) i .r0'
  ${EndIf}
!macroend

Function RecoverInterruptedRun
  Push $R1
  Push $R2
  StrCpy $R2 0
  !insertmacro FOR_EACH_PROGRAM_FILE FIND_BACKED_UP
  ${If} $R2 == 1
    StrCpy $R1 0
    !insertmacro FOR_EACH_PROGRAM_FILE FIND_STAGED
    !insertmacro FOR_EACH_PROGRAM_FILE FIND_MISSING
    ${If} $R1 == 1
      DetailPrint "An earlier installation was interrupted before its files were in place: restoring the previous files."
      !insertmacro FOR_EACH_PROGRAM_FILE RECOVER_OLD
    ${Else}
      DetailPrint "An earlier installation was interrupted after its files were in place: finishing it."
    ${EndIf}
  ${EndIf}
  ; A shortcut the interrupted run removed comes back until this run writes it again.
  !insertmacro RECOVER_SHORTCUT "$SMPROGRAMS\${SHORTCUT_NAME}" "StartMenu.lnk"
  !insertmacro RECOVER_SHORTCUT "$DESKTOP\${SHORTCUT_NAME}" "Desktop.lnk"
  !insertmacro FOR_EACH_PROGRAM_FILE DELETE_BACKUP
  Delete "${BACKUP_DIR}\StartMenu.lnk"
  Delete "${BACKUP_DIR}\Desktop.lnk"
  ; Staged files of an interrupted run are not this version's files.
  !insertmacro FOR_EACH_PROGRAM_FILE DELETE_STAGED
  Pop $R2
  Pop $R1
FunctionEnd

Section "${PRODUCT_NAME}" SecApp
  SectionIn RO
  ; The user may have started the app while the wizard was open.
  Call EnsureAppNotRunning
  Call EnsureWebView2

  StrCpy $Phase "stage"
  ${IfNot} ${FileExists} "$INSTDIR\*.*"
    ClearErrors
    CreateDirectory "$INSTDIR"
    !insertmacro FAIL_UNLESS_OK "create $INSTDIR"
    StrCpy $CreatedInstDir 1
  ${EndIf}
  ; A folder this run made, or this scope's installation (made by an earlier version, which
  ; left the parent's permissions on it); before any file is written, so all inherit them.
  ${If} $CreatedInstDir == 1
  ${OrIf} $INSTDIR == $RegisteredDir
    ClearErrors
    Call SecureMachineFolder
    !insertmacro FAIL_UNLESS_OK "set the permissions of $INSTDIR"
  ${EndIf}
  Call RecoverInterruptedRun
  ClearErrors
  CreateDirectory "${STAGE_DIR}"
  CreateDirectory "${BACKUP_DIR}"
  !insertmacro FAIL_UNLESS_OK "create ${STAGE_DIR}"
  SetOutPath "${STAGE_DIR}"
  File "/oname=${APP_EXE_NAME}" "${APP_EXE}"
  !insertmacro STAGE_FILE "config.toml.example"
  !insertmacro STAGE_FILE "README.html"
  !insertmacro STAGE_FILE "LICENSE.txt"
  ; Never config.toml: that is the user's file and survives upgrades and uninstalls.
  ClearErrors
  WriteUninstaller "${STAGE_DIR}\${UNINSTALLER}"
  !insertmacro FAIL_UNLESS_OK "write the uninstaller"

  StrCpy $Phase "aside"
  !insertmacro FOR_EACH_PROGRAM_FILE MOVE_ASIDE
  StrCpy $Phase "movein"
  !insertmacro FOR_EACH_PROGRAM_FILE MOVE_IN
  !insertmacro FOR_EACH_PROGRAM_FILE CHECK_IN_PLACE
  ; The shortcuts' working directory is $INSTDIR (the current SetOutPath).
  SetOutPath "$INSTDIR"

  StrCpy $Phase "shortcuts"
  !insertmacro BACK_UP_SHORTCUT "$SMPROGRAMS\${SHORTCUT_NAME}" "StartMenu.lnk"
  !insertmacro BACK_UP_SHORTCUT "$DESKTOP\${SHORTCUT_NAME}" "Desktop.lnk"
  ClearErrors
  CreateShortcut "$SMPROGRAMS\${SHORTCUT_NAME}" "$INSTDIR\${APP_EXE_NAME}" "" \
    "$INSTDIR\${APP_EXE_NAME}" 0
  !insertmacro FAIL_UNLESS_OK "create the Start menu shortcut"
  CreateShortcut "$DESKTOP\${SHORTCUT_NAME}" "$INSTDIR\${APP_EXE_NAME}" "" \
    "$INSTDIR\${APP_EXE_NAME}" 0
  !insertmacro FAIL_UNLESS_OK "create the desktop shortcut"

  ; Registered only now: every file of this version is in place.
  ClearErrors
  ReadRegStr $0 SHCTX "${UNINST_KEY}" "DisplayName"
  StrCpy $HadRegistration 0
  ${IfNot} ${Errors}
    StrCpy $HadRegistration 1
  ${EndIf}
  !insertmacro FOR_EACH_REGISTRY_STRING SAVE_STRING
  !insertmacro FOR_EACH_REGISTRY_DWORD SAVE_DWORD
  StrCpy $Phase "registry"
  !insertmacro WRITE_STRING DisplayName "${PRODUCT_NAME}"
  !insertmacro WRITE_STRING DisplayVersion "${PRODUCT_VERSION}"
  !insertmacro WRITE_STRING Publisher "${PUBLISHER}"
  !insertmacro WRITE_STRING URLInfoAbout "${HOMEPAGE}"
  !insertmacro WRITE_STRING DisplayIcon "$INSTDIR\${APP_EXE_NAME},0"
  !insertmacro WRITE_STRING InstallLocation "$INSTDIR"
  !insertmacro WRITE_STRING UninstallString '"$INSTDIR\${UNINSTALLER}"'
  !insertmacro WRITE_STRING QuietUninstallString '"$INSTDIR\${UNINSTALLER}" /S'
  ; What this section installs (KiB, known when the installer is compiled) plus the uninstaller.
  SectionGetSize ${SecApp} $0
  FileOpen $1 "$INSTDIR\${UNINSTALLER}" r
  FileSeek $1 0 END $2
  FileClose $1
  IntOp $2 $2 / 1024
  IntOp $0 $0 + $2
  !insertmacro WRITE_DWORD EstimatedSize $0
  !insertmacro WRITE_DWORD NoModify 1
  !insertmacro WRITE_DWORD NoRepair 1

  StrCpy $Phase "done"
  !insertmacro FOR_EACH_PROGRAM_FILE DELETE_BACKUP
  Delete "${BACKUP_DIR}\StartMenu.lnk"
  Delete "${BACKUP_DIR}\Desktop.lnk"
  RMDir "${BACKUP_DIR}"
  RMDir "${STAGE_DIR}"
SectionEnd

; Undoes what the section did, newest first, up to the phase it reached.
Function Rollback
  ${If} $Phase == ""
  ${OrIf} $Phase == "done"
    Return
  ${EndIf}
  DetailPrint "Restoring the previous state…"
  ; Windows cannot remove a process's current directory (STAGE_DIR or $INSTDIR).
  SetOutPath "$TEMP"
  ${If} $Phase == "registry"
    ${If} $HadRegistration == 1
      !insertmacro FOR_EACH_REGISTRY_STRING RESTORE_STRING
      !insertmacro FOR_EACH_REGISTRY_DWORD RESTORE_DWORD
    ${Else}
      DeleteRegKey SHCTX "${UNINST_KEY}"
    ${EndIf}
  ${EndIf}
  ${If} $Phase == "registry"
  ${OrIf} $Phase == "shortcuts"
    !insertmacro RESTORE_SHORTCUT "$SMPROGRAMS\${SHORTCUT_NAME}" "StartMenu.lnk"
    !insertmacro RESTORE_SHORTCUT "$DESKTOP\${SHORTCUT_NAME}" "Desktop.lnk"
  ${EndIf}
  ; From "movein" on, every previous file is in the backup and $INSTDIR holds only new ones.
  ${If} $Phase != "stage"
  ${AndIf} $Phase != "aside"
    !insertmacro FOR_EACH_PROGRAM_FILE DELETE_NEW
  ${EndIf}
  !insertmacro FOR_EACH_PROGRAM_FILE RESTORE_OLD
  !insertmacro FOR_EACH_PROGRAM_FILE DELETE_STAGED
  RMDir "${STAGE_DIR}"
  RMDir "${BACKUP_DIR}"
  ${If} $CreatedInstDir == 1
    RMDir "$INSTDIR"
  ${EndIf}
  StrCpy $Phase ""
FunctionEnd

Function .onInstFailed
  Call Rollback
  ; A failed write is reported as such (not NSIS's generic 2), unless restoring failed too.
  GetErrorLevel $0
  ${If} $0 != 2
    SetErrorLevel ${EXIT_WRITE_FAILED}
  ${EndIf}
FunctionEnd

;--- Uninstaller ----------------------------------------------------------------------------------

; Removes exactly the files the installer wrote. The directory itself goes only when it is then
; empty: the user chose it and may keep other files there (never RMDir /r).
Section "un.${PRODUCT_NAME}" SecUnApp
  SectionIn RO
  Delete "$INSTDIR\${APP_EXE_NAME}"
  Delete "$INSTDIR\config.toml.example"
  Delete "$INSTDIR\README.html"
  Delete "$INSTDIR\LICENSE.txt"
  ; Left behind only if an installation was interrupted (power loss) mid-way.
  !insertmacro FOR_EACH_PROGRAM_FILE DELETE_STAGED
  !insertmacro FOR_EACH_PROGRAM_FILE DELETE_BACKUP
  Delete "${BACKUP_DIR}\StartMenu.lnk"
  Delete "${BACKUP_DIR}\Desktop.lnk"
  RMDir "${STAGE_DIR}"
  RMDir "${BACKUP_DIR}"

  ; Shortcuts and the registration belong to this copy only if it is the registered one (an
  ; older copy elsewhere must not take the newer one's entries with it).
  ReadRegStr $0 SHCTX "${UNINST_KEY}" "InstallLocation"
  ${If} $0 == ""
  ${OrIf} $0 == $INSTDIR
    Delete "$SMPROGRAMS\${SHORTCUT_NAME}"
    Delete "$DESKTOP\${SHORTCUT_NAME}"
    DeleteRegKey SHCTX "${UNINST_KEY}"
  ${EndIf}

  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"
SectionEnd

; Off unless ticked on the components page or /REMOVECONFIG is on the command line. Only the
; current user's data: their config.toml and the WebView2 data folder the app created
; (%APPDATA%\TraderAdmin.exe); other users' profiles are never touched.
Section /o "un.Remove my settings" SecUnConfig
  Delete "$INSTDIR\config.toml"
  RMDir "$INSTDIR"
  SetShellVarContext current
  Delete "$APPDATA\${PRODUCT_NAME}\config.toml"
  RMDir "$APPDATA\${PRODUCT_NAME}"
  ; The browser engine's cache and cookies: created by WebView2, not by the user.
  RMDir /r "$APPDATA\${APP_EXE_NAME}"
  ${If} $UnScope == "AllUsers"
    SetShellVarContext all
  ${EndIf}
SectionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecUnApp} "The program files, shortcuts and the Apps & features entry."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecUnConfig} "Also delete config.toml next to the program and in your %APPDATA%\${PRODUCT_NAME} folder, and the app's WebView2 data in %APPDATA%\${APP_EXE_NAME}."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

; The uninstaller's scope: per-user when this user's registration (or profile) holds this copy.
Function un.onInit
  ReadRegStr $0 HKCU "${UNINST_KEY}" "InstallLocation"
  StrLen $1 $LOCALAPPDATA
  StrCpy $2 $INSTDIR $1
  ${If} $0 == $INSTDIR
  ${OrIf} $2 == $LOCALAPPDATA
    StrCpy $UnScope "CurrentUser"
    SetShellVarContext current
  ${Else}
    StrCpy $UnScope "AllUsers"
    Call un.EnsureElevated
    SetShellVarContext all
  ${EndIf}
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/REMOVECONFIG" $1
  ${IfNot} ${Errors}
    SectionSetFlags ${SecUnConfig} ${SF_SELECTED}
  ${EndIf}
  Call un.EnsureAppNotRunning
FunctionEnd
