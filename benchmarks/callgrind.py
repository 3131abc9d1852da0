"""valgrind's callgrind from Python: finding it, its client requests, and reading its dump files.

The client requests are what `<valgrind/callgrind.h>`'s macros compile to: a magic no-op sequence
of rotations (`rol rdi` by 3, 13, 61 and 51: 128 bits, the register is unchanged) followed by
`xchg rbx, rbx`, with a pointer to six words (request code, arguments) in rax and the default
answer in rdx. Natively the sequence does nothing and returns the default (0); under valgrind it
runs the request. pytest-codspeed and torch ship the same requests in C extensions; here they are
nine instructions mapped executable with ctypes, so no compiler and no extra package is needed.
x86-64 only: elsewhere `client_requests()` raises NotImplementedError and the work benchmarks skip.
"""

from __future__ import annotations

import ctypes
import functools
import mmap
import platform
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "valgrind not found: install it (Debian/Ubuntu: `apt-get install valgrind`) to count instructions"

# mov rax, rdi; mov rdx, rsi; rol rdi, 3; rol rdi, 13; rol rdi, 61; rol rdi, 51; xchg rbx, rbx;
# mov rax, rdx; ret  -- unsigned long request(unsigned long args[6], unsigned long default)
_X86_64_REQUEST = bytes.fromhex("4889f84889f248c1c70348c1c70d48c1c73d48c1c7334887db4889d0c3")

_RUNNING_ON_VALGRIND = 0x1001
_CALLGRIND_BASE = (ord("C") << 24) | (ord("T") << 16)  # VG_USERREQ_TOOL_BASE('C', 'T')
_DUMP_STATS, _ZERO_STATS, _TOGGLE_COLLECT, _DUMP_STATS_AT, _START_INSTR, _STOP_INSTR = (
    _CALLGRIND_BASE + offset for offset in range(6)
)


def find_valgrind() -> str:
    """The valgrind executable on PATH; NotImplementedError (asv: skipped) with how to install it."""
    path = shutil.which("valgrind")
    if path is None:
        raise NotImplementedError(INSTALL_HINT)
    return path


class ClientRequests:
    """Callgrind's client requests for this process (each a no-op when not running under valgrind)."""

    def __init__(self) -> None:
        if platform.machine() not in ("x86_64", "AMD64"):
            raise NotImplementedError(f"callgrind client requests are x86-64 only, not {platform.machine()}")
        prot = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
        self._page = mmap.mmap(-1, mmap.PAGESIZE, prot=prot)
        self._page.write(_X86_64_REQUEST)
        address = ctypes.addressof(ctypes.c_char.from_buffer(self._page))
        self._request = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong)(address)

    def _call(self, code: int, argument: int = 0) -> int:
        words = (ctypes.c_ulong * 6)(code, argument, 0, 0, 0, 0)
        return int(self._request(ctypes.addressof(words), 0))

    def running_on_valgrind(self) -> bool:
        return self._call(_RUNNING_ON_VALGRIND) > 0

    def start_instrumentation(self) -> None:
        """Instrument from here on (callgrind runs the process uninstrumented with --instr-atstart=no)."""
        self._call(_START_INSTR)

    def stop_instrumentation(self) -> None:
        self._call(_STOP_INSTR)

    def zero_stats(self) -> None:
        self._call(_ZERO_STATS)

    def toggle_collect(self) -> None:
        self._call(_TOGGLE_COLLECT)

    def dump_stats_at(self, label: str) -> None:
        """Write the counts since the last dump or zero to a new file whose trigger names `label`."""
        text = ctypes.create_string_buffer(label.encode())
        self._call(_DUMP_STATS_AT, ctypes.addressof(text))


@functools.cache
def client_requests() -> ClientRequests:
    return ClientRequests()


@dataclass(frozen=True)
class Dump:
    """One callgrind output file: whose process, which dump of it, what triggered it, instructions.

    `part` numbers a process's dumps from 1 in the order written; the dump at program termination
    (the file without a number) is part 0.
    """

    path: Path
    pid: int
    part: int
    trigger: str
    instructions: int


_DUMP_NAME = re.compile(r"^(?P<prefix>.+)\.(?P<pid>\d+)\.out(?:\.(?P<part>\d+))?$")


def read_dump(path: Path) -> Dump:
    """Parse a callgrind output file `<prefix>.<pid>.out[.<n>]`: its trigger and `totals:` (Ir).

    `summary:` is not used: after a zero it wraps (callgrind subtracts the zeroed counts from it),
    where `totals:` stays right.
    """
    match = _DUMP_NAME.match(path.name)
    if match is None:
        raise ValueError(f"{path.name} is not named as a callgrind output file (<prefix>.<pid>.out[.<n>])")
    instructions = -1
    trigger = ""
    events: list[str] = []
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("desc: Trigger:"):
                trigger = line.split(":", 2)[2].strip()
            elif line.startswith("events:"):
                events = line.split(":", 1)[1].split()
            elif line.startswith("totals:"):
                instructions = int(line.split(":", 1)[1].split()[events.index("Ir") if "Ir" in events else 0])
    if instructions < 0:
        raise ValueError(f"{path} is not a complete callgrind output file (no totals line)")
    part = int(match["part"]) if match["part"] else 0
    return Dump(path=path, pid=int(match["pid"]), part=part, trigger=trigger, instructions=instructions)


def dumps_of(directory: Path, prefix: str, pid: int | None = None) -> list[Dump]:
    """The dump files `<prefix>.<pid>.out[.<n>]` in `directory` (of one pid if given), in dump order."""
    found = []
    for path in directory.iterdir():
        match = _DUMP_NAME.match(path.name)
        if match and match["prefix"] == prefix and (pid is None or int(match["pid"]) == pid):
            found.append(read_dump(path))
    return sorted(found, key=lambda dump: (dump.pid, dump.part))


def dump_count(directory: Path, prefix: str, pid: int) -> int:
    """How many numbered dumps process `pid` has written so far (cheap: names only)."""
    count = 0
    for path in directory.iterdir():
        match = _DUMP_NAME.match(path.name)
        if match and match["prefix"] == prefix and int(match["pid"]) == pid and match["part"]:
            count += 1
    return count
