"""TLS ClientHello / ServerHello parsing and fingerprints: JA3, JA3S (Salesforce) and JA4 (FoxIO, ``ja4`` only).

JA3 = md5 of ``version,ciphers,extensions,curves,point_formats`` (decimal, ``-`` joined, GREASE values
removed). JA3S = md5 of ``version,cipher,extensions``. JA4 = ``t13d1516h2_<sha256(sorted ciphers)[:12]>_
<sha256(sorted extensions without SNI/ALPN + "_" + signature algorithms)[:12]>``.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field

VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv10", 0x0302: "TLSv11", 0x0303: "TLSv12", 0x0304: "TLSv13"}
_JA4_VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3", 0x0002: "s2",
                 0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}
CIPHERS = {
    0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA", 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", 0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
}


def is_grease(v: int) -> bool:
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


@dataclass
class ClientHello:
    version: int
    ciphers: list[int] = field(default_factory=list)
    extensions: list[int] = field(default_factory=list)
    curves: list[int] = field(default_factory=list)
    point_formats: list[int] = field(default_factory=list)
    sig_algs: list[int] = field(default_factory=list)
    supported_versions: list[int] = field(default_factory=list)
    alpn: list[str] = field(default_factory=list)
    sni: str | None = None

    def ja3_string(self) -> str:
        def j(vals: list[int]) -> str:
            return "-".join(str(v) for v in vals if not is_grease(v))

        return ",".join([str(self.version), j(self.ciphers), j(self.extensions), j(self.curves),
                         j(self.point_formats)])

    def ja3(self) -> str:
        return hashlib.md5(self.ja3_string().encode()).hexdigest()  # noqa: S324 (the standard says md5)

    def ja4(self, transport: str = "t") -> str:
        versions = [v for v in self.supported_versions if not is_grease(v)]
        top = max(versions) if versions else self.version
        ver = _JA4_VERSIONS.get(top, "00")
        ciphers = [c for c in self.ciphers if not is_grease(c)]
        exts = [e for e in self.extensions if not is_grease(e)]
        alpn = self.alpn[0] if self.alpn else ""
        if not alpn:
            a = "00"
        elif alpn[0].isalnum() and alpn[-1].isalnum():
            a = alpn[0] + alpn[-1]
        else:
            raw = alpn.encode("latin-1", "replace")
            a = f"{raw[0]:02x}"[0] + f"{raw[-1]:02x}"[-1]
        part_a = f"{transport}{ver}{'d' if self.sni else 'i'}{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{a}"

        def h(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()[:12]

        part_b = h(",".join(sorted(f"{c:04x}" for c in ciphers))) if ciphers else "000000000000"
        ext_text = ",".join(sorted(f"{e:04x}" for e in exts if e not in (0x0000, 0x0010)))
        sigs = ",".join(f"{s:04x}" for s in self.sig_algs if not is_grease(s))
        if sigs:
            ext_text += "_" + sigs
        part_c = h(ext_text) if exts else "000000000000"
        return f"{part_a}_{part_b}_{part_c}"


@dataclass
class ServerHello:
    version: int
    cipher: int
    extensions: list[int] = field(default_factory=list)
    selected_version: int | None = None

    def ja3s_string(self) -> str:
        return f"{self.version},{self.cipher},{'-'.join(str(e) for e in self.extensions)}"

    def ja3s(self) -> str:
        return hashlib.md5(self.ja3s_string().encode()).hexdigest()  # noqa: S324

    @property
    def version_name(self) -> str:
        v = self.selected_version or self.version
        return VERSIONS.get(v, f"0x{v:04x}")

    @property
    def cipher_name(self) -> str:
        return CIPHERS.get(self.cipher, f"0x{self.cipher:04x}")


def looks_like_tls(payload: bytes) -> bool:
    return len(payload) >= 6 and payload[0] in (0x16, 0x17, 0x15, 0x14) and payload[1] == 3 and payload[2] <= 4


def handshake_message(stream: bytes) -> tuple[int, bytes] | None:
    """The first handshake message in a TLS record stream: (type, body); None if incomplete or not TLS."""
    if len(stream) < 5 or stream[0] != 0x16 or stream[1] != 3:
        return None
    # gather handshake bytes across consecutive handshake records
    hs = bytearray()
    pos = 0
    while pos + 5 <= len(stream) and stream[pos] == 0x16:
        rec_len = struct.unpack_from("!H", stream, pos + 3)[0]
        hs += stream[pos + 5:pos + 5 + rec_len]
        pos += 5 + rec_len
        if len(hs) >= 4:
            need = 4 + int.from_bytes(hs[1:4], "big")
            if len(hs) >= need:
                return hs[0], bytes(hs[4:need])
    return None


def _u16_list(data: bytes) -> list[int]:
    return [struct.unpack_from("!H", data, i)[0] for i in range(0, len(data) - 1, 2)]


def parse_client_hello(body: bytes) -> ClientHello:
    """Parse a ClientHello body (after the 4-byte handshake header). Raises ValueError when malformed."""
    try:
        version = struct.unpack_from("!H", body, 0)[0]
        pos = 2 + 32
        sid_len = body[pos]
        pos += 1 + sid_len
        cs_len = struct.unpack_from("!H", body, pos)[0]
        pos += 2
        hello = ClientHello(version, ciphers=_u16_list(body[pos:pos + cs_len]))
        pos += cs_len
        comp_len = body[pos]
        pos += 1 + comp_len
        if pos + 2 > len(body):
            return hello
        ext_total = struct.unpack_from("!H", body, pos)[0]
        pos += 2
        end = min(len(body), pos + ext_total)
        while pos + 4 <= end:
            etype, elen = struct.unpack_from("!HH", body, pos)
            data = body[pos + 4:pos + 4 + elen]
            pos += 4 + elen
            hello.extensions.append(etype)
            if etype == 0 and len(data) >= 5:
                name_len = struct.unpack_from("!H", data, 3)[0]
                hello.sni = data[5:5 + name_len].decode("ascii", "replace")
            elif etype == 10 and len(data) >= 2:
                hello.curves = _u16_list(data[2:2 + struct.unpack_from("!H", data, 0)[0]])
            elif etype == 11 and len(data) >= 1:
                hello.point_formats = list(data[1:1 + data[0]])
            elif etype == 13 and len(data) >= 2:
                hello.sig_algs = _u16_list(data[2:2 + struct.unpack_from("!H", data, 0)[0]])
            elif etype == 43 and len(data) >= 1:
                hello.supported_versions = _u16_list(data[1:1 + data[0]])
            elif etype == 16 and len(data) >= 2:
                i = 2
                while i < len(data):
                    ln = data[i]
                    hello.alpn.append(data[i + 1:i + 1 + ln].decode("latin-1"))
                    i += 1 + ln
        return hello
    except (struct.error, IndexError) as exc:
        raise ValueError(f"malformed ClientHello: {exc}") from None


def parse_server_hello(body: bytes) -> ServerHello:
    try:
        version = struct.unpack_from("!H", body, 0)[0]
        pos = 2 + 32
        sid_len = body[pos]
        pos += 1 + sid_len
        cipher = struct.unpack_from("!H", body, pos)[0]
        pos += 3  # cipher + compression
        hello = ServerHello(version, cipher)
        if pos + 2 > len(body):
            return hello
        ext_total = struct.unpack_from("!H", body, pos)[0]
        pos += 2
        end = min(len(body), pos + ext_total)
        while pos + 4 <= end:
            etype, elen = struct.unpack_from("!HH", body, pos)
            if etype == 43 and elen >= 2:
                hello.selected_version = struct.unpack_from("!H", body, pos + 4)[0]
            hello.extensions.append(etype)
            pos += 4 + elen
        return hello
    except (struct.error, IndexError) as exc:
        raise ValueError(f"malformed ServerHello: {exc}") from None
