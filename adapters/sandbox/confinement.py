"""Operating-system confinement of the worker, applied once after its imports and before any strategy.

Layers, each enforced by the kernel, so they hold even if strategy code escaped the Python-level
screen: rlimits (address space, file size, no core dumps); Landlock (reads only where Python
and its libraries live, writes only in the worker's private folder, no TCP connect or bind,
no signals to processes outside); seccomp (no socket creation, no exec, no ptrace). Each layer
reports whether it took effect, and the worker tells the host, which refuses to run untrusted
code when a required layer is missing.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import struct
import sys
from collections.abc import Iterable

_SYS = {  # syscall numbers: landlock_create_ruleset, add_rule, restrict_self are the same on both
    "x86_64": {"arch": 0xC000003E, "socket": 41, "socketpair": 53, "execve": 59, "execveat": 322,
               "ptrace": 101, "process_vm_writev": 311, "fork": 57, "vfork": 58},
    "aarch64": {"arch": 0xC00000B7, "socket": 198, "socketpair": 199, "execve": 221, "execveat": 281,
                "ptrace": 117, "process_vm_writev": 271},
}
_LANDLOCK_CREATE, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT = 444, 445, 446
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_READ = 1 | 4 | 8            # execute, read file, read dir
_FILE_RIGHTS = 1 | 2 | 4 | (1 << 14)  # rights that apply to a file, not a directory (truncate from ABI 3)


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def apply_rlimits(memory_bytes: int, file_bytes: int = 64 * 1024 * 1024) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def set_cpu_budget(seconds: float) -> None:
    """Soft CPU limit this many seconds past what the worker used so far: SIGXCPU kills it there."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(used + seconds) + 1
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def landlock(writable: str, readable: Iterable[str]) -> int:
    """Restrict the filesystem (and TCP, from ABI 4) for this process and its threads; the ABI, or 0."""
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_LANDLOCK_CREATE, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    if abi < 1:
        return 0
    handled_fs = (1 << 13) - 1
    if abi >= 2:
        handled_fs |= 1 << 13  # refer
    if abi >= 3:
        handled_fs |= 1 << 14  # truncate
    if abi >= 5:
        handled_fs |= 1 << 15  # ioctl on devices
    fields = [handled_fs]
    if abi >= 4:
        fields.append(1 | 2)   # bind and connect TCP: no rule allows any
    if abi >= 6:
        fields.append(1 | 2)   # scoped: abstract unix sockets and signals stay inside
    attr = struct.pack(f"<{len(fields)}Q", *fields)
    fd = libc.syscall(_LANDLOCK_CREATE, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        _allow(libc, fd, writable, handled_fs)
        for path in readable:
            _allow(libc, fd, path, _READ)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if libc.syscall(_LANDLOCK_RESTRICT, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)
    return int(abi)


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        target = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that does not exist needs no rule
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        attr = struct.pack("<Qi", rights, target)  # landlock_path_beneath_attr is packed
        if libc.syscall(_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.c_char_p(attr),
                        ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
    finally:
        os.close(target)


def seccomp(extra_denied: Iterable[str] = ()) -> bool:
    """A filter that fails socket(), exec and ptrace with EPERM; False where the machine is unknown."""
    numbers = _SYS.get(platform.machine())
    if numbers is None:
        return False
    denied = [n for n in ("socket", "socketpair", "execve", "execveat", "ptrace", "process_vm_writev", "fork",
                          "vfork", *extra_denied) if n in numbers]
    ld_arch, ld_nr = (0x20, 0, 0, 4), (0x20, 0, 0, 0)
    program: list[tuple[int, int, int, int]] = [ld_arch]
    checks = len(denied) + 1  # + the x32 range check
    # jt/jf count instructions skipped: after the checks come ALLOW, ERRNO, KILL
    program.append((0x15, 1, 0, numbers["arch"]))          # right arch: skip the kill jump
    program.append((0x05, 0, 0, checks + 3))               # ja -> KILL
    program.append(ld_nr)
    program.append((0x35, checks, 0, 0x40000000))          # x32 syscalls -> ERRNO
    for i, name in enumerate(denied):
        program.append((0x15, len(denied) - i, 0, numbers[name]))  # -> ERRNO
    program += [(0x06, 0, 0, 0x7FFF0000), (0x06, 0, 0, 0x00050000 | 1), (0x06, 0, 0, 0x80000000)]
    filters = b"".join(struct.pack("<HBBI", *ins) for ins in program)
    buffer = ctypes.create_string_buffer(filters)
    prog = struct.pack("<HxxxxxxQ", len(program), ctypes.addressof(buffer))
    libc = _libc()
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.c_char_p(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "seccomp filter refused")
    return True


def readable_roots(project_root: str) -> list[str]:
    """Where Python, its libraries and our `domain` package live: the worker reads nothing else.

    The project folder itself is left out (its `.env`, `var/` and `data/` are not the strategy's
    business); only the `domain` package inside it is readable, and the virtual environment when
    it lives there.
    """
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, "/usr/lib", "/usr/lib64", "/lib", "/lib64",
             "/usr/share/zoneinfo", "/dev/null", "/dev/urandom"}
    roots.update(p for p in sys.path if p and os.path.isdir(p))
    project = os.path.realpath(project_root)
    roots = {r for r in roots if os.path.realpath(r) != project}
    domain = sys.modules.get("domain")
    if domain is not None and domain.__file__:
        roots.add(os.path.dirname(domain.__file__))
    return sorted(roots)
