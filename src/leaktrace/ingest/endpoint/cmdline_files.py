"""Files a process writes or reads, inferred from its command line when no file event records them.

Audit and Sysmon configurations often leave out exactly the files that matter (a Sysmon config that skips
``C:\\Windows\\Temp`` never logs an LSASS dump written there). The command line of a well-known tool names
them: ``rundll32 comsvcs.dll MiniDump <pid> <out> full``, ``procdump -ma lsass <out>``, ``7z a <archive>
<files>``, ``rar a``, ``tar -cf``, ``zip``, ``Compress-Archive``, ``copy``/``xcopy``/``cp``, ``reg save``,
``certutil -urlcache -f <url> <out>``, ``curl -o``, ``Invoke-WebRequest -OutFile``.

Each inferred file gets a ``file_event`` row (``create`` for outputs, ``read`` for inputs) with
``extra.inferred_from = "command_line"`` and the rule name; relative paths are joined to the process's current
directory when it is known. Wildcards are kept as written.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from leaktrace.ingest.endpoint.sink import RowSink
from leaktrace.ingest.endpoint.values import dumps

_ARG = r'("[^"]+"|\'[^\']+\'|[^\s"\']+)'


@dataclass(frozen=True)
class InferredFile:
    action: str  # create | read
    path: str
    rule: str


def _unquote(token: str) -> str:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def _split(command_line: str) -> list[str]:
    try:
        return [_unquote(t) for t in shlex.split(command_line, posix=False)]
    except ValueError:
        return [_unquote(t) for t in command_line.split()]


def _basename(token: str) -> str:
    name = re.split(r"[\\/]", token)[-1].lower()
    return name[:-4] if name.endswith(".exe") else name


def _is_switch(token: str) -> bool:
    return token.startswith("-") or (token.startswith("/") and len(token) <= 12 and "/" not in token[1:]
                                     and "\\" not in token)


_COMSVCS = re.compile(r"comsvcs(?:\.dll)?[\s,]+(?:minidump|minidumpw|#\+?0*24)\s+(\([^)]*\)\S*|\S+)\s+" + _ARG,
                      re.I)
_REG_SAVE = re.compile(r"\breg(?:\.exe)?\s+(?:save|export)\s+" + _ARG + r"\s+" + _ARG, re.I)
_CERTUTIL = re.compile(r"\bcertutil(?:\.exe)?\s+.*?-(?:urlcache|verifyctl)\b.*?\s(?:https?|ftp)://\S+\s+" + _ARG, re.I)
_CERTUTIL_DECODE = re.compile(r"\bcertutil(?:\.exe)?\s+.*?-decode(?:hex)?\s+" + _ARG + r"\s+" + _ARG, re.I)
_CURL_OUT = re.compile(r"\b(?:curl|wget)(?:\.exe)?\s.*?(?:\s-o|\s-O|\s--output|\s--output-document)[\s=]+" + _ARG,
                       re.I)
_IWR_OUT = re.compile(r"\b(?:invoke-webrequest|iwr|wget|curl)\b.*?-outfile\s+" + _ARG, re.I)
_COMPRESS = re.compile(r"compress-archive\b(.*)", re.I)
_PS_PARAM = re.compile(r"-(path|literalpath|destinationpath)\s+" + r"((?:" + _ARG + r"\s*,\s*)*" + _ARG + ")", re.I)
_CMD_COPY = re.compile(r"(?:^|[\s&|(])(copy|xcopy|move)(?:\.exe)?\s+((?:/\S+\s+)*)" + _ARG + r"\s+" + _ARG, re.I)


_TOOLS = ("procdump", "7z", "rar", "winrar", "zip", "tar", "bsdtar", "cp", "mv", "makecab")


def _archive_args(tokens: list[str], start: int) -> tuple[str | None, list[str]]:
    """``archive, inputs`` from the tokens after an ``a`` (add) command, skipping switches."""
    rest = [t for t in tokens[start:] if not _is_switch(t)]
    if not rest:
        return None, []
    return rest[0], rest[1:]


def infer(command_line: str | None, image: str | None = None) -> list[InferredFile]:
    """Files written (``create``) or read by the command, as far as its command line tells."""
    if not command_line:
        return []
    out: list[InferredFile] = []
    if m := _COMSVCS.search(command_line):
        out.append(InferredFile("create", _unquote(m.group(2)), "comsvcs-minidump"))
    tokens = _split(command_line)
    # the image names the tool; a renamed or wrapped one may still be named by the first token
    exe = _basename(image) if image else ""
    if not exe.startswith(_TOOLS) and tokens:
        exe = _basename(tokens[0])
    args = tokens[1:]
    if exe.startswith("procdump"):
        positional = [t for i, t in enumerate(args) if not _is_switch(t)
                      and not (i > 0 and args[i - 1].lower() in ("-n", "-s", "-c", "-cl", "-m", "-ml", "-p", "-pl"))]
        if len(positional) >= 2:
            out.append(InferredFile("create", positional[1], "procdump"))
    elif exe in ("7z", "7za", "7zr", "7zg", "rar", "winrar") and args and args[0].lower() in ("a", "u"):
        archive, inputs = _archive_args(args, 1)
        if archive:
            out.append(InferredFile("create", archive, f"{exe}-add"))
            out.extend(InferredFile("read", i, f"{exe}-add") for i in inputs)
    elif exe == "zip" and args:
        archive, inputs = _archive_args(args, 0)
        if archive:
            out.append(InferredFile("create", archive, "zip"))
            out.extend(InferredFile("read", i, "zip") for i in inputs)
    elif exe in ("tar", "bsdtar"):
        for i, t in enumerate(args):
            flags = t.lstrip("-")
            if "c" in flags and flags.endswith("f") and flags.isalpha() and i + 1 < len(args):
                out.append(InferredFile("create", args[i + 1], "tar-create"))
                out.extend(InferredFile("read", x, "tar-create") for x in args[i + 2:] if not _is_switch(x))
                break
    elif exe in ("cp", "mv") and len([a for a in args if not a.startswith("-")]) >= 2:
        paths = [a for a in args if not a.startswith("-")]
        out.extend(InferredFile("read", p, exe) for p in paths[:-1])
        out.append(InferredFile("create", paths[-1], exe))
    elif exe == "makecab" and len([a for a in args if not _is_switch(a)]) >= 2:
        paths = [a for a in args if not _is_switch(a)]
        out += [InferredFile("read", paths[0], "makecab"), InferredFile("create", paths[1], "makecab")]
    for m in _CMD_COPY.finditer(command_line):
        verb = m.group(1).lower()
        out += [InferredFile("read", _unquote(m.group(3)), verb), InferredFile("create", _unquote(m.group(4)), verb)]
    if m := _REG_SAVE.search(command_line):
        out.append(InferredFile("create", _unquote(m.group(2)), "reg-save"))
    if m := _CERTUTIL.search(command_line):
        out.append(InferredFile("create", _unquote(m.group(1)), "certutil-download"))
    elif m := _CERTUTIL_DECODE.search(command_line):
        out += [InferredFile("read", _unquote(m.group(1)), "certutil-decode"),
                InferredFile("create", _unquote(m.group(2)), "certutil-decode")]
    if m := _IWR_OUT.search(command_line):
        out.append(InferredFile("create", _unquote(m.group(1)), "invoke-webrequest"))
    elif exe in ("curl", "wget") and (m := _CURL_OUT.search(command_line)):
        out.append(InferredFile("create", _unquote(m.group(1)), exe))
    if m := _COMPRESS.search(command_line):
        for name, values, *_ in _PS_PARAM.findall(m.group(1)):
            items = [_unquote(v) for v in re.split(r"\s*,\s*", values)]
            action = "create" if name.lower() == "destinationpath" else "read"
            out.extend(InferredFile(action, v, "compress-archive") for v in items)
    return [f for f in out if f.path and f.path not in ("-", "nul", "NUL")]


def absolute(path: str, cwd: str | None) -> str:
    """Join a relative Windows/POSIX path to the process's current directory."""
    if not cwd or re.match(r"^(?:[A-Za-z]:[\\/]|\\\\|/|\\)", path) or "://" in path:
        return path
    sep = "\\" if "\\" in cwd or re.match(r"^[A-Za-z]:", cwd) else "/"
    if path.startswith((".\\", "./")):
        path = path[2:]
    return cwd.rstrip("\\/") + sep + path


def write_inferred(proc: dict[str, Any], cwd: str | None, extra: dict[str, Any], sink: RowSink,
                   seen: set[tuple[Any, ...]]) -> None:
    """``file_event`` rows for the files the command line of a new process (a ``process`` row) names.

    ``seen`` drops repeats (Sysmon 1 and Security 4688 of the same process name the same files)."""
    for f in infer(proc.get("command_line"), proc.get("image")):
        path = absolute(f.path, cwd)
        key = (proc.get("host"), proc.get("pid"), path.lower(), f.action)
        if key in seen:
            continue
        seen.add(key)
        sink.add("file_event", {
            "ts": proc["ts"], "host": proc.get("host"), "pid": proc.get("pid"),
            "process_guid": proc.get("process_guid"), "image": proc.get("image"), "action": f.action,
            "path": path, "user": proc.get("user"), "source_line": proc.get("source_line"),
            "extra": dumps({"inferred_from": "command_line", "rule": f.rule, **extra,
                            "command_line": proc.get("command_line")}),
        })
