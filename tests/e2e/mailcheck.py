#!/usr/bin/python3
"""Read a mail that smtpd.py received as a reader would, with Python's email package.

mailcheck.py FILE [--domain D] [--subject S] [--html] [--no-html] [--helo NAME]
             [--has TEXT]... [--lacks TEXT]...

FILE is smtpd.py's NNNNNN.eml (its first line, the envelope, is skipped).  It checks
what every mail of spool must have: a Date that parses, one Message-ID (with
--domain, on the right of its '@'), MIME-Version 1.0, a text/plain part with a
charset, and 7-bit lines of at most 78 characters.  Then: --subject, the decoded
subject exactly; --html, a multipart/alternative whose parts are text/plain and then
text/html, each with a charset; --no-html, a single text/plain body; --has and
--lacks, text in (or not in) every decoded text part; --helo, the EHLO name in
.NNNNNN.helo.  Exit 0 when all hold; else one line per failure on stdout.
"""
import argparse
import email
import email.policy
import email.utils
import os
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("file")
    p.add_argument("--domain")
    p.add_argument("--subject")
    p.add_argument("--html", action="store_true")
    p.add_argument("--no-html", action="store_true")
    p.add_argument("--helo")
    p.add_argument("--has", action="append", default=[])
    p.add_argument("--lacks", action="append", default=[])
    a = p.parse_args()
    raw = open(a.file, "rb").read()
    raw = raw.split(b"\r\n", 1)[1] if raw.startswith(b"X-Smtpd-Envelope:") else raw
    bad = []
    for n, line in enumerate(raw.split(b"\r\n"), 1):
        if len(line) > 78:
            bad.append("line %d has %d characters" % (n, len(line)))
        if any(c > 127 for c in line):
            bad.append("line %d is not 7-bit" % n)
    m = email.message_from_bytes(raw, policy=email.policy.default)
    if m["Date"] is None or m["Date"].datetime is None:
        bad.append("no Date, or one that does not parse")
    ids = m.get_all("Message-ID") or []
    if len(ids) != 1 or not ids[0].startswith("<") or not ids[0].endswith(">"):
        bad.append("Message-ID: %r" % ids)
    elif a.domain and ids[0][1:-1].rpartition("@")[2] != a.domain:
        bad.append("Message-ID %s is not under %s" % (ids[0], a.domain))
    if m["MIME-Version"] != "1.0":
        bad.append("MIME-Version: %r" % m["MIME-Version"])
    if a.subject is not None and str(m["Subject"]) != a.subject:
        bad.append("Subject: %r, want %r" % (str(m["Subject"]), a.subject))
    parts = [m] if not m.is_multipart() else list(m.iter_parts())
    kinds = [q.get_content_type() for q in parts]
    if a.html and (m.get_content_type() != "multipart/alternative" or
                   kinds != ["text/plain", "text/html"]):
        bad.append("not plain text and HTML alternatives: %s %s" % (m.get_content_type(), kinds))
    if a.no_html and kinds != ["text/plain"]:
        bad.append("not plain text alone: %s" % kinds)
    if "text/plain" not in kinds:
        bad.append("no text/plain part: %s" % kinds)
    texts = []
    for q in parts:
        if q.get_content_maintype() != "text":
            continue
        if q.get_param("charset") is None:
            bad.append("%s without a charset" % q.get_content_type())
        texts.append(q.get_content())
    for t in a.has:
        for body in texts:
            if t not in body:
                bad.append("%r is not in the body: %r" % (t, body[:300]))
    for t in a.lacks:
        for body in texts:
            if t in body:
                bad.append("%r is in the body" % t)
    if a.helo is not None:
        d, f = os.path.split(a.file)
        helo = open(os.path.join(d, "." + f[:-4] + ".helo")).read().strip()
        if helo != a.helo:
            bad.append("EHLO %r, want %r" % (helo, a.helo))
    for b in bad:
        print(b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
