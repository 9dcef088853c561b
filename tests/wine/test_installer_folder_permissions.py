"""The permissions of a per-machine install folder, as far as Wine 8 can show them.

Wine 8 keeps no Windows ACLs: SetNamedSecurityInfoW succeeds and only maps the DACL onto Unix
mode bits; GetNamedSecurityInfoW answers with a DACL made up from the mode bits (SYSTEM and the
file's owner full control, Everyone from the "other" bits); icacls and cacls are stubs that
print nothing. So these tests check what the installer asks Windows for (Wine's trace of the
security calls) and its refusal of a folder that Wine reports writable by Everyone (mode o+w).
That Windows then denies a standard user is not tested here; README says how to check it there.
"""

from build_scripts.windows import installer_check
from tests.wine.machine_state import differences, snapshot

NEW_FOLDER = r"C:\TraderAdmin"  # no spaces: Wine would quote /D=
SHARED = r"C:\Shared"
# Wine's trace channels of the advapi32 security functions (SetNamedSecurityInfoW and the
# SDDL conversions); NSIS's own calls go through them.
TRACE = {"WINEDEBUG": "-all,trace+advapi,trace+security"}
SDDL = "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
# OWNER | DACL | PROTECTED_DACL security information (0x80000005), as Wine prints it (signed).
SET_ON = 'SetNamedSecurityInfoW L"{path}" 1 -2147483643 '


def _install_traced(prefix, setup, *options: str) -> tuple[int, str]:
    result = prefix.run([str(setup), "/S", *options], step="install", check=False, env=TRACE)
    prefix.wait()
    return result.returncode, result.output


def _escaped(path: str) -> str:
    return path.replace("\\", "\\\\")


def test_an_all_users_install_into_a_new_folder_gives_it_program_files_permissions(builds, prefix):
    old, new = builds.old, builds.new
    code, trace = _install_traced(prefix, builds.old_installer, "/ALLUSERS", f"/D={NEW_FOLDER}")
    assert code == 0
    assert installer_check.installation_problems(prefix, old, NEW_FOLDER) == []
    assert f'ConvertStringSecurityDescriptorToSecurityDescriptorW L"{SDDL}"' in trace, trace
    assert SET_ON.format(path=_escaped(NEW_FOLDER)) in trace, trace
    # Before the first file was written into it (the files inherit the permissions).
    first_set = trace.index(SET_ON.format(path=_escaped(NEW_FOLDER)))
    assert "TraderAdmin.new" not in trace[:first_set]

    # An upgrade sets them again (a folder made by an older version has its parent's).
    code, trace = _install_traced(prefix, builds.new_installer)
    assert code == 0
    assert installer_check.installation_problems(prefix, new, NEW_FOLDER) == []
    assert SET_ON.format(path=_escaped(NEW_FOLDER)) in trace, trace


def test_a_per_user_install_leaves_the_permissions_of_its_folder_alone(builds, prefix):
    code, trace = _install_traced(prefix, builds.new_installer, "/CURRENTUSER")
    assert code == 0
    assert "SetNamedSecurityInfoW" not in trace


def test_an_existing_folder_that_other_users_can_write_to_is_refused_with_exit_19(builds, prefix):
    new = builds.new
    shared = prefix.unix_path(SHARED)
    shared.mkdir()
    shared.chmod(0o777)  # Wine reports "other" write bits as Everyone's
    before = snapshot(prefix)
    code, trace = _install_traced(prefix, builds.new_installer, "/ALLUSERS", f"/D={SHARED}")
    assert code == 19, trace
    assert differences(before, snapshot(prefix)) == []
    # The installer asked Windows (Wine) for the folder's DACL, and nothing else decided it.
    assert f'GetNamedSecurityInfoW L"{_escaped(SHARED)}" 1 4 ' in trace, trace

    # Restricted to its owner (and the administrators), the same folder is accepted.
    shared.chmod(0o755)
    code, trace = _install_traced(prefix, builds.new_installer, "/ALLUSERS", f"/D={SHARED}")
    assert code == 0, trace
    assert installer_check.installation_problems(prefix, new, SHARED) == []
    # Not made by the installer: its permissions are the administrator's choice, left alone.
    assert "SetNamedSecurityInfoW" not in trace
