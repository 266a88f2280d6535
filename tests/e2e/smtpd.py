#!/usr/bin/python3
"""A test SMTP relay on loopback, for the mailer's unit and end-to-end tests.

smtpd.py --port N --dir DIR [--ready FILE] [--tempfail-file F] [--max-seconds S]
         [--auth-user U --auth-password P] [--tls-cert CERT --tls-key KEY]

Listens on 127.0.0.1 only.  Each message it accepts appears whole in DIR as
NNNNNN.eml (written under a dot-name, then renamed), its first line recording the
envelope:  "X-Smtpd-Envelope: from=<a> to=<b>,<c>"  (and " tls" when the session
used STARTTLS), followed by the message as received; .NNNNNN.helo beside it (a
dot-name, which readers of DIR skip) holds the name the client gave in EHLO or HELO.  While the file F exists
every message is answered 451; a recipient containing "reject" is refused with
550.  With --auth-user, AUTH PLAIN and LOGIN are offered over plain text and
required.  With --tls-cert, STARTTLS is offered.  Once it listens it writes the
ready file (default DIR/../smtpd.ready).  It exits on SIGTERM or SIGINT, and by
itself after --max-seconds (default 300), so a test that dies leaves nothing
running.

Run it with /usr/bin/python3: a python3 on PATH may not see Debian's aiosmtpd.
"""
import argparse
import asyncio
import itertools
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir, tempfail):
        self.outdir = outdir
        self.tempfail = tempfail
        self.seq = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address.lower():
            return "550 5.1.1 <%s>: recipient rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.tempfail and os.path.exists(self.tempfail):
            return "451 4.3.0 try again later"
        n = next(self.seq)
        while os.path.exists(os.path.join(self.outdir, "%06d.eml" % n)):
            n = next(self.seq)
        head = "X-Smtpd-Envelope: from=<%s> to=%s%s\r\n" % (
            envelope.mail_from, ",".join("<%s>" % a for a in envelope.rcpt_tos),
            " tls" if session.ssl is not None else "")
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        tmp = os.path.join(self.outdir, ".%06d.tmp" % n)
        with open(tmp, "wb") as f:
            f.write(head.encode("ascii", "replace") + data)
            f.flush()
            os.fsync(f.fileno())
        # the name the client gave in EHLO (or HELO), beside the message
        with open(os.path.join(self.outdir, ".%06d.helo" % n), "w") as f:
            f.write("%s\n" % (session.host_name or ""))
        os.rename(tmp, os.path.join(self.outdir, "%06d.eml" % n))
        return "250 2.0.0 OK queued as %06d" % n


def main():
    p = argparse.ArgumentParser(description="test SMTP relay on 127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--ready")
    p.add_argument("--tempfail-file")
    p.add_argument("--max-seconds", type=float, default=300)
    p.add_argument("--auth-user")
    p.add_argument("--auth-password")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    # plain-text AUTH on loopback is the point here; keep the test output clean
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    ready = a.ready or os.path.join(os.path.dirname(os.path.abspath(a.dir)), "smtpd.ready")

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              auth_data.login == a.auth_user.encode() and
              auth_data.password == a.auth_password.encode())
        # handled=False: aiosmtpd answers 535 itself (with True it would say nothing)
        return AuthResult(success=ok, handled=False)

    handler = Handler(a.dir, a.tempfail_file)
    kw = {}
    if a.auth_user:
        kw = dict(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    if a.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        kw["tls_context"] = ctx

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.call_later(a.max_seconds, lambda: stop.done() or stop.set_result(None))

    # hostname given: aiosmtpd would otherwise ask DNS for this host's name
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="localhost", decode_data=False, **kw),
        host="127.0.0.1", port=a.port))
    tmp = ready + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, ready)
    loop.run_until_complete(stop)
    server.close()
    loop.run_until_complete(server.wait_closed())
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
