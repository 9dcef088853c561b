"""Everything Windows: PE and .lnk readers, Wine prefixes, Authenticode signing, the NSIS
installer (build_scripts/windows_installer.nsi) and its check under Wine."""
