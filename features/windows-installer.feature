Feature: Creating and Testing Windows Installer (NSIS)
  Windows users install TraderAdmin with TraderAdmin_Setup_vX.Y.Z.exe, compiled by NSIS from
  build_scripts/windows_installer.nsi. It installs the app with its shortcuts and an entry in
  Apps & features, and the uninstaller takes all of that away again. (Per-user installs and
  the faults an installer must survive, each with its exit code, are checked under Wine by
  `nox -s installer`: tests/wine/.)

  Background:
    Given the machine has been bootstrapped

  @fixture.xvfb @fixture.wine_prefix
  Scenario: Creating and Testing Windows Installer (NSIS)
    Given NSIS is installed and an `windows_installer.nsi` script is prepared
    And the Wails-built `TraderAdmin.exe` and other assets are available
    When the NSIS script is compiled
    Then a `TraderAdmin_Setup_vX.Y.Z.exe` installer is generated
    And the installer successfully installs the application on a Windows test environment
    And shortcuts are created as specified
    And the application launches correctly from the shortcuts
    And the uninstaller removes the application and shortcuts cleanly

  Scenario: A broken installer script fails the build and leaves the previous installer alone
    Given the Wails-built `TraderAdmin.exe` and other assets are available
    And the installer has been built
    And a copy of the installer script with an unknown command on one line
    When I build the installer from that copy
    Then it exits with status 4
    And stderr is one line that contains "Error in script"
    And stderr names the broken line of the copy
    And the installer in the release folder is unchanged
