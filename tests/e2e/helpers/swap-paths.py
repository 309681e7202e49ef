#!/usr/bin/env python3
"""swap-paths.py STOPFILE SECONDS PATH ALT [PATH ALT]...

The race half of tests/e2e/hostile_images.bats (CVE-2024-0132 / CVE-2025-23359, time-of-check
to time-of-use): exchange each PATH with its ALT atomically (renameat2 RENAME_EXCHANGE) in a
tight loop, so that a name in a container root is a real directory one moment and a symlink to
a host directory the next, and never missing. Stops when STOPFILE exists or SECONDS have passed,
then puts every PATH back as it was at the start; prints the number of exchanges.
"""
import ctypes
import os
import sys
import time

AT_FDCWD = -100
RENAME_EXCHANGE = 2


def main() -> int:
    if len(sys.argv) < 5 or len(sys.argv) % 2 == 0:
        print(__doc__, file=sys.stderr)
        return 2
    stop, seconds = sys.argv[1], float(sys.argv[2])
    pairs = [(os.fsencode(sys.argv[i]), os.fsencode(sys.argv[i + 1]))
             for i in range(3, len(sys.argv), 2)]
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = libc.renameat2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]

    def exchange(a: bytes, b: bytes) -> None:
        if renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"renameat2({a!r}, {b!r}, RENAME_EXCHANGE): {os.strerror(e)}")

    swaps = 0
    deadline = time.monotonic() + seconds
    while not os.path.exists(stop) and time.monotonic() < deadline:
        for a, b in pairs:
            exchange(a, b)
        swaps += 1
    if swaps % 2:  # an odd number of exchanges leaves each pair swapped: put them back
        for a, b in pairs:
            exchange(a, b)
    print(swaps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
