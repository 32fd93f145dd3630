#!/usr/bin/env python3
"""Test-only Streamable HTTP front for the stdio server, so the MCP conformance suite
(which speaks HTTP only) can drive the real binary.

Owns: one long-running server process, and the HTTP side of each exchange. Each POST body
is written verbatim as one line to the server's stdin; a request's reply line is returned
verbatim (as application/json, or as an event stream when the server sent notifications
before its reply). It never edits or reorders a JSON-RPC payload. The only replies it
writes itself are refusals that only HTTP can express, so the suite's checks of them
exercise this relay, not the server:
- Host and Origin must name loopback (DNS-rebinding protection), else 403.
- A request whose MCP-Protocol-Version header differs from its own `_meta` version is 400
  with -32020 (header mismatch), before the server sees it.
- Legacy era (no per-request `_meta`): the reply to a successful `initialize` carries a
  fresh Mcp-Session-Id, which names the server process's one legacy negotiation (a later
  `initialize` replaces it, as it does in the server). Once one exists, a legacy message
  without it is 400 and one with an older or unknown id is 404.
- A body over 8 MiB is 413; one that is not JSON, or holds a raw line break (it cannot go
  verbatim as one line), is 400 with -32700.

And the statuses around the server's own replies:
- A notification or a response from the client is answered 202 with no body.
- GET and DELETE are 405: no server-initiated stream, no explicit session end.
- Stateless (2026-07-28) errors carry the status the transport defines for them: 404 for
  -32601; 400 for -32602, -32600, -32700, -32020, -32021 and -32022; any other is 200.
  Legacy-era errors stay 200, as the legacy transport has it.

It binds to loopback only and is meant to run inside a private network namespace.
Usage: relay.py PORT BINARY PROJECT_DIR
"""

import json
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MODERN = "2026-07-28"
VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
MODERN_STATUS = {-32601: 404, -32602: 400, -32022: 400, -32020: 400, -32021: 400,
                 -32600: 400, -32700: 400}
MAX_BODY = 8 * 1024 * 1024


def loopback_host(value):
    """True when a Host value (host[:port]) or an Origin URL names loopback."""
    if "://" not in value:
        value = "http://" + value
    try:
        host = urlsplit(value).hostname
    except ValueError:
        return False
    return host is not None and host.lower() in LOOPBACK


class Server:
    """The one server process; exchanges are serialised, as its stdio loop is."""

    def __init__(self, binary, project):
        self.process = subprocess.Popen(
            [binary, "--project", project],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        self.lock = threading.Lock()
        self.session = None

    def send(self, line, reply_id=None, expect_reply=False):
        """Write one line; for a request, read until the reply naming its id and return
        (notification lines seen first, the reply line)."""
        with self.lock:
            self.process.stdin.write(line + b"\n")
            self.process.stdin.flush()
            if not expect_reply:
                return [], None
            before = []
            while True:
                out = self.process.stdout.readline()
                if not out:
                    raise RuntimeError("server closed its output")
                out = out.rstrip(b"\n")
                message = json.loads(out)
                if isinstance(message, dict) and "method" not in message and (
                        message.get("id") == reply_id
                        or (message.get("id") is None and "error" in message)):
                    return before, out
                before.append(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_process = None

    def log_message(self, fmt, *args):
        sys.stderr.write("relay: " + (fmt % args) + "\n")

    def reply(self, status, body=b"", content_type="application/json", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def rpc_error(self, status, rpc_id, code, message):
        body = json.dumps({"jsonrpc": "2.0", "id": rpc_id,
                           "error": {"code": code, "message": message}})
        self.reply(status, body.encode())

    def do_GET(self):
        self.reply(405)

    def do_DELETE(self):
        self.reply(405)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:
            self.close_connection = True
            self.reply(413)
            return
        # Read the body before any refusal, so a kept-alive connection stays framed.
        body = self.rfile.read(length)
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin")
        if not loopback_host(host) or (origin is not None and not loopback_host(origin)):
            self.reply(403, b"Forbidden: Host and Origin must be loopback", "text/plain")
            return
        try:
            message = json.loads(body)
        except ValueError:
            self.rpc_error(400, None, -32700, "Parse error")
            return
        if b"\n" in body or b"\r" in body:
            # One line per message on stdio: a body with a raw line break cannot be sent
            # verbatim, and re-encoding it would hide what the client sent.
            self.rpc_error(400, None, -32700, "Parse error: line break in body")
            return
        is_request = isinstance(message, dict) and "method" in message and "id" in message
        method = message.get("method") if isinstance(message, dict) else None
        params = message.get("params") if isinstance(message, dict) else None
        meta = params.get("_meta") if isinstance(params, dict) else None
        meta = meta if isinstance(meta, dict) else {}
        header_version = self.headers.get("MCP-Protocol-Version")
        # The server's own test for a modern request (src/protocol/era.rs `select`).
        modern = method == "server/discover" or VERSION_KEY in meta or CAPABILITIES_KEY in meta
        rpc_id = message.get("id") if is_request else None
        if not modern and method != "initialize" and not self.session_ok(rpc_id):
            return
        body_version = meta.get(VERSION_KEY)
        if modern and header_version is not None and body_version is not None \
                and header_version != body_version:
            self.rpc_error(400, rpc_id, -32020,
                           "Header mismatch: MCP-Protocol-Version differs from _meta")
            return
        if not is_request:
            self.server_process.send(body)
            self.reply(202)
            return
        before, out = self.server_process.send(body, rpc_id, expect_reply=True)
        reply = json.loads(out)
        status, headers = 200, {}
        error = reply.get("error")
        if modern and isinstance(error, dict):
            status = MODERN_STATUS.get(error.get("code"), 200)
        if not modern and method == "initialize" and "result" in reply:
            self.server_process.session = secrets.token_hex(16)
            headers["Mcp-Session-Id"] = self.server_process.session
        if before:
            events = b"".join(b"event: message\ndata: " + line + b"\n\n"
                              for line in before + [out])
            self.reply(status, events, "text/event-stream", headers)
        else:
            self.reply(status, out, headers=headers)

    def session_ok(self, rpc_id):
        """A legacy message after an `initialize` must name the current session."""
        current = self.server_process.session
        sent = self.headers.get("Mcp-Session-Id")
        if current is None:
            return True
        if sent is None:
            self.rpc_error(400, rpc_id, -32000, "Bad Request: Mcp-Session-Id header required")
            return False
        if sent != current:
            self.rpc_error(404, rpc_id, -32001, "Session not found")
            return False
        return True


def main():
    port, binary, project = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    Handler.server_process = Server(binary, project)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    sys.stderr.write(f"relay: listening on 127.0.0.1:{port}\n")
    sys.stderr.flush()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
