#!/usr/bin/env python3
"""mailtool - test helper for the dispatch tests (synthetic data only).

  mailtool.py queue SPOOL            print every queued message: envelope,
                                     headers and the decoded text body
  mailtool.py maildirs SPOOL         the same for delivered mail in spool/mail/
  mailtool.py reply FILE HOME        decrypt a reply, print GOOD PRIMARY-FPR for a
                                     good signature, then its text
  mailtool.py inject FILE OLD NEW HOME FPR
                                     replace OLD by NEW (\\r\\n escapes) in the
                                     signed text and sign it again
  mailtool.py xml FILE HOME FPR XML  a new request mail, signed by FPR, whose signed
                                     entity has the XML request as an attachment
  mailtool.py alter FILE             change the signed text after signing
  mailtool.py resign FILE HOME FPR.. replace the signature by one made with
                                     every key given (two keys: two signatures)
  mailtool.py encrypt-only FILE HOME FPR
                                     the signed text, unsigned, encrypted to FPR
  mailtool.py client STYLE FORM HOME FPR OUT [MSGID]
                                     a request mail as a mail client sends it, the
                                     form (UTF-8 file) in a signed entity of STYLE:
                                     greeting, qp, flowed, flowed-delsp, flowed-plain,
                                     attachment, alternative, sjis, iso2022jp; or
                                     inline (a clear-signed text/plain body)
  mailtool.py entity FILE            the signed entity of FILE (for its hash)
  mailtool.py headers FILE           the outer header lines of FILE, decoded
  mailtool.py show FILE              one plain message: headers and decoded text
"""
import email
import glob
import os
import re
import subprocess
import sys
from email import policy


def show(raw, out):
    m = email.message_from_bytes(raw, policy=policy.default)
    for k, v in m.items():
        out.append("%s: %s" % (k, v))
    out.append("")
    if m.get_content_type() == "text/plain":
        out.append(m.get_content())
    else:
        out.append("[%s]" % m.get_content_type())


def queue(spool):
    out = []
    for env in sorted(glob.glob(os.path.join(spool, "queue/env/*"))):
        qid = os.path.basename(env)
        out.append("== %s" % qid)
        out.append(open(env).read().rstrip("\n"))
        out.append("--")
        show(open(os.path.join(spool, "queue/msg", qid), "rb").read(), out)
    print("\n".join(out))


def maildirs(spool):
    out = []
    for f in sorted(glob.glob(os.path.join(spool, "mail/*/new/*"))):
        out.append("== %s" % f.split("/mail/")[1])
        show(open(f, "rb").read(), out)
    print("\n".join(out))


def parts(raw):
    b = re.search(rb'boundary="([^"]+)"', raw).group(1)
    start = raw.index(b"--" + b + b"\r\n") + len(b) + 4
    end = raw.index(b"\r\n--" + b + b"\r\n", start)
    return b, start, end


def alter(path):
    raw = open(path, "rb").read()
    b, start, end = parts(raw)
    signed = raw[start:end]
    assert b"type: alert" in signed
    signed = signed.replace(b"type: alert", b"type: found", 1)
    open(path, "wb").write(raw[:start] + signed + raw[end:])


def resign(path, home, keys):
    raw = open(path, "rb").read()
    b, start, end = parts(raw)
    cmd = ["gpg", "--homedir", home, "--batch", "--yes", "--armor", "--detach-sign"]
    for k in keys:
        cmd += ["-u", k]
    sig = subprocess.run(cmd, input=raw[start:end], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout
    sig = sig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    i = raw.index(b"-----BEGIN PGP SIGNATURE-----")
    j = raw.index(b"-----END PGP SIGNATURE-----") + len(b"-----END PGP SIGNATURE-----\r\n")
    open(path, "wb").write(raw[:i] + sig + raw[j:])


def encrypt_only(path, home, fpr):
    raw = open(path, "rb").read()
    b, start, end = parts(raw)
    entity = raw[start:end]
    ct = subprocess.run(["gpg", "--homedir", home, "--batch", "--yes", "--armor",
                         "--trust-model", "always", "--encrypt", "-r", fpr],
                        input=entity, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                        check=True).stdout.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head = raw[:raw.index(b"\r\n\r\n")]
    head = re.sub(rb"Content-Type: multipart/signed;[^\r]*(\r\n[ \t][^\r]*)*",
                  b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";'
                  b'\r\n boundary="enc"', head)
    body = (b"\r\n\r\n--enc\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
            b"\r\n--enc\r\nContent-Type: application/octet-stream\r\n\r\n" + ct +
            b"\r\n--enc--\r\n")
    open(path, "wb").write(head + body)


def reply(path, home):
    """Decrypt a reply, check its inner signature, print signer and text."""
    m = email.message_from_bytes(open(path, "rb").read())
    ct = m.get_payload()[1].get_payload().encode()
    plain = subprocess.run(["gpg", "--homedir", home, "--batch", "--decrypt"], input=ct,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           check=True).stdout
    b, start, end = parts(plain.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    norm = plain.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    signed = norm[start:end]
    sig = norm[norm.index(b"-----BEGIN PGP SIGNATURE-----"):
               norm.index(b"-----END PGP SIGNATURE-----") + 27]
    open(path + ".sig", "wb").write(sig)
    open(path + ".signed", "wb").write(signed)
    v = subprocess.run(["gpg", "--homedir", home, "--batch", "--status-fd", "1", "--verify",
                        path + ".sig", path + ".signed"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL)
    for line in v.stdout.decode().splitlines():
        if line.startswith("[GNUPG:] VALIDSIG "):
            print("GOOD", line.split()[-1])
    os.unlink(path + ".sig")
    os.unlink(path + ".signed")
    print(email.message_from_bytes(signed, policy=policy.default).get_content())


def inject(path, old, new, home, keys):
    """Replace bytes in the signed text, then sign it again (a valid signature)."""
    raw = open(path, "rb").read()
    b, start, end = parts(raw)
    signed = raw[start:end]
    assert old.encode() in signed
    signed = signed.replace(old.encode(), new.encode().decode("unicode_escape").encode("latin-1"), 1)
    open(path, "wb").write(raw[:start] + signed + raw[end:])
    resign(path, home, keys)


def xml_request(path, home, key, xmlfile):
    """A new signed request mail whose signed entity carries the XML file."""
    import base64
    xml = open(xmlfile, "rb").read()
    b64 = base64.encodebytes(xml).replace(b"\n", b"\r\n")
    entity = (b'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n'
              b"--mix\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
              b"# the request is attached\r\n"
              b"\r\n--mix\r\nContent-Type: application/xml; name=request.xml\r\n"
              b"Content-Disposition: attachment; filename=request.xml\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 +
              b"\r\n--mix--\r\n")
    sig = subprocess.run(["gpg", "--homedir", home, "--batch", "--yes", "--armor",
                          "--detach-sign", "-u", key], input=entity,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    mail = (b"From: ops@vendor.example.jp\r\nTo: alerts@example.jp\r\n"
            b"Subject: request\r\nMessage-ID: <xml.1@vendor.example.jp>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/signed; micalg=pgp-sha256; '
            b'protocol="application/pgp-signature"; boundary="sig"\r\n\r\n'
            b"--sig\r\n" + entity + b"\r\n--sig\r\n"
            b"Content-Type: application/pgp-signature\r\n\r\n" + sig +
            b"\r\n--sig--\r\n")
    open(path, "wb").write(mail)


def qp(data):
    import quopri
    return quopri.encodestring(data).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def flow(form):
    """Wrap as a flowed client does: long lines get soft breaks; the
    clothing line keeps the trailing space some clients leave."""
    out = []
    for line in form.split("\n"):
        if line.startswith("last-seen: "):
            out += ["last-seen: 三宮センター街 ", "東口付近"]
        elif line.startswith("clothing: "):
            out.append(line + " ")
        elif line.startswith(" "):
            out.append(" " + line)  # space-stuffing
        else:
            out.append(line)
    return "\n".join(out)


def client(style, form_path, home, key, out, msgid=None):
    form = open(form_path, encoding="utf-8").read()
    greeting = "お疲れさまです。見守り係の山田です。\n以下のとおり依頼します。\n\n"
    signature = "\n-- \n山田 一郎\n見守り係\n"
    text = (greeting + form + signature).encode()
    plain = b"Content-Type: text/plain; charset=UTF-8\r\n"
    if style == "greeting":
        entity = plain + b"Content-Transfer-Encoding: 8bit\r\n\r\n" + crlf(text)
    elif style == "qp":
        entity = plain + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(text)
    elif style in ("flowed", "flowed-delsp", "flowed-plain"):
        body = flow(form) if style != "flowed-plain" else form
        if style == "flowed-delsp":
            body = body.replace("三宮センター街 \n", "三宮センター街  \n")
        ct = b"Content-Type: text/plain; charset=UTF-8; format=flowed"
        if style == "flowed-delsp":
            ct += b"; delsp=yes"
        entity = (ct + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
                  crlf(body.encode()))
    elif style == "attachment":
        import base64
        b64 = crlf(base64.encodebytes(form.encode()))
        entity = (b'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n'
                  b"--mix\r\n" + plain + b"Content-Transfer-Encoding: 8bit\r\n\r\n" +
                  "依頼フォームを添付します。\r\nよろしくお願いします。\r\n".encode() +
                  b"\r\n--mix\r\nContent-Type: text/plain; charset=UTF-8; name=form.txt\r\n"
                  b"Content-Disposition: attachment; filename=form.txt\r\n"
                  b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 +
                  b"\r\n--mix--\r\n")
    elif style == "alternative":
        html = ("<html><body><p>" + (greeting + form).replace("\n", "<br>") +
                "</p></body></html>").encode()
        entity = (b'Content-Type: multipart/mixed; boundary="prot"; protected-headers="v1"\r\n'
                  b"Subject: request\r\nFrom: ops@vendor.example.jp\r\n\r\n"
                  b"--prot\r\nContent-Type: text/rfc822-headers; protected-headers=\"v1\"\r\n"
                  b"Content-Disposition: inline\r\n\r\nSubject: request\r\n"
                  b"\r\n--prot\r\n"
                  b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
                  b"--alt\r\n" + plain +
                  b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(text) +
                  b"\r\n--alt\r\nContent-Type: text/html; charset=UTF-8\r\n"
                  b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(html) +
                  b"\r\n--alt--\r\n\r\n--prot--\r\n")
    elif style == "sjis":
        entity = (b"Content-Type: text/plain; charset=Shift_JIS\r\n"
                  b"Content-Transfer-Encoding: 8bit\r\n\r\n" +
                  crlf((greeting + form + signature).encode("shift_jis")))
    elif style == "iso2022jp":
        entity = (b"Content-Type: text/plain; charset=ISO-2022-JP\r\n"
                  b"Content-Transfer-Encoding: 7bit\r\n\r\n" +
                  crlf((greeting + form + signature).encode("iso2022_jp")))
    elif style == "inline":
        signed = subprocess.run(["gpg", "--homedir", home, "--batch", "--yes",
                                 "--clearsign", "-u", key], input=form.encode(),
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                check=True).stdout
        mail = (b"From: ops@vendor.example.jp\r\nTo: alerts@example.jp\r\n"
                b"Subject: request\r\nMessage-ID: <" + (msgid or "inline.1@vendor.example.jp").encode() +
                b">\r\nMIME-Version: 1.0\r\n" + plain +
                b"Content-Transfer-Encoding: 8bit\r\n\r\n" + crlf(signed))
        open(out, "wb").write(mail)
        return
    else:
        sys.exit("unknown style " + style)
    sig = subprocess.run(["gpg", "--homedir", home, "--batch", "--yes", "--armor",
                          "--detach-sign", "-u", key], input=entity,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         check=True).stdout
    mail = (b"From: =?UTF-8?B?5bGx55Sw?= <ops@vendor.example.jp>\r\nTo: alerts@example.jp\r\n"
            b"Subject: request\r\nDate: Sat, 21 Nov 2026 09:40:00 +0900\r\n"
            b"Message-ID: <" + (msgid or style + ".1@vendor.example.jp").encode() + b">\r\n"
            b"MIME-Version: 1.0\r\nUser-Agent: synthetic client\r\n"
            b'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n'
            b' protocol="application/pgp-signature"; boundary="sig"\r\n\r\n'
            b"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n"
            b"--sig\r\n" + entity + b"\r\n--sig\r\n"
            b'Content-Type: application/pgp-signature; name="signature.asc"\r\n'
            b"Content-Disposition: attachment; filename=signature.asc\r\n\r\n" +
            crlf(sig) + b"\r\n--sig--\r\n")
    open(out, "wb").write(mail)


def entity(path):
    raw = open(path, "rb").read()
    b, start, end = parts(raw)
    sys.stdout.buffer.write(raw[start:end])


def headers(path):
    m = email.message_from_bytes(open(path, "rb").read(), policy=policy.default)
    for k, v in m.items():
        print("%s: %s" % (k, v))


if __name__ == "__main__":
    c = sys.argv[1]
    if c == "queue":
        queue(sys.argv[2])
    elif c == "maildirs":
        maildirs(sys.argv[2])
    elif c == "reply":
        reply(sys.argv[2], sys.argv[3])
    elif c == "inject":
        inject(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
    elif c == "xml":
        xml_request(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    elif c == "alter":
        alter(sys.argv[2])
    elif c == "resign":
        resign(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif c == "client":
        client(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6],
               sys.argv[7] if len(sys.argv) > 7 else None)
    elif c == "entity":
        entity(sys.argv[2])
    elif c == "show":
        lines = []
        show(open(sys.argv[2], "rb").read(), lines)
        print("\n".join(lines))
    elif c == "headers":
        headers(sys.argv[2])
    elif c == "encrypt-only":
        encrypt_only(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
