/*
 * Test-only stand-in for bcryptprimitives.dll, for running TraderAdmin.exe
 * under Wine 8.0 (Debian 12's wine64), which does not ship that DLL.
 *
 * Every Windows binary built with Go >= 1.22 loads bcryptprimitives.dll at
 * start-up for ProcessPrng and dies without it:
 *     fatal error: bcryptprimitives.dll not found
 * Real Windows has it since Windows 8 (Go only supports Windows 10+), and
 * newer Wine releases provide it, so this file is never shipped; it only goes
 * into a throw-away Wine prefix used for the --version / --selftest checks.
 *
 * Build and install (apt-get install gcc-mingw-w64-x86-64-win32):
 *     x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 *     cp bcryptprimitives.dll "$WINEPREFIX/drive_c/windows/system32/"
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE; /* the real ProcessPrng never fails */
}
