"""Local stand-ins for the outside world notify talks to: an SMTP server's inbox (aiosmtpd) and a
chat group's robot (an HTTP server on 127.0.0.1). The fixtures ``smtp`` and ``receiver`` in
conftest.py start them for a test."""

from __future__ import annotations

import email
import json
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Inbox:
    """The aiosmtpd handler: keeps every message the server accepted."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def texts(self) -> list[str]:
        return [m.get_body(("plain",)).get_content() for m in self.messages]


class Receiver:
    """A local HTTP server standing in for a chat group's robot: records each POST and answers with
    the next queued reply (default: the robots' success answer)."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.replies: list[tuple[int, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((self.path, json.loads(body.decode("utf-8"))))
                status, answer = receiver.replies.pop(0) if receiver.replies else (200, {"errcode": 0, "errmsg": "ok"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path: str) -> list[dict]:
        return [payload for p, payload in self.posts if p.startswith(path)]
