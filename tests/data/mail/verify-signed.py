# verify-signed.py FILE [FPR]: check a PGP/MIME mail with gpg itself (in
# $GNUPGHOME): decrypt a multipart/encrypted one, then cut the signed part
# out of the raw bytes at the boundary lines (the email package only
# finds the boundary and the signature), verify it with gpg --verify, and
# demand exactly one good signature (by FPR's primary key when given).
# Prints the decoded text of the signed part; exit 1 on any failure.
import email, re, subprocess, sys, tempfile, os
from email import policy

def fail(why):
    sys.exit("verify-signed.py: " + why)

raw = open(sys.argv[1], "rb").read()
want = sys.argv[2] if len(sys.argv) > 2 else None
msg = email.message_from_bytes(raw, policy=policy.compat32)
if msg.get_content_type() == "multipart/encrypted":
    parts = msg.get_payload()
    if len(parts) != 2 or parts[0].get_content_type() != "application/pgp-encrypted":
        fail("bad multipart/encrypted")
    r = subprocess.run(["gpg", "--batch", "--decrypt"], input=parts[1].get_payload(decode=True),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode:
        fail("cannot decrypt: " + r.stderr.decode(errors="replace"))
    raw = r.stdout
    msg = email.message_from_bytes(raw, policy=policy.compat32)
if msg.get_content_type() != "multipart/signed" or \
   msg.get_param("protocol") != "application/pgp-signature":
    fail("not multipart/signed")
b = msg.get_boundary().encode()
raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
delim = re.compile(rb"(?:^|\r\n)--" + re.escape(b) + rb"(--)?[ \t]*(?=\r\n|$)")
marks = list(delim.finditer(raw))
if len(marks) != 3 or marks[2].group(1) is None:
    fail("not exactly two parts")
start = marks[0].end() + 2
signed = raw[start:marks[1].start()]
sig = msg.get_payload()[1].get_payload(decode=True)
with tempfile.TemporaryDirectory() as d:
    open(os.path.join(d, "data"), "wb").write(signed)
    open(os.path.join(d, "sig.asc"), "wb").write(sig)
    r = subprocess.run(["gpg", "--batch", "--status-fd", "1", "--verify",
                        os.path.join(d, "sig.asc"), os.path.join(d, "data")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
status = r.stdout.decode()
good = [l for l in status.splitlines() if l.startswith("[GNUPG:] GOODSIG ")]
valid = [l.split() for l in status.splitlines() if l.startswith("[GNUPG:] VALIDSIG ")]
if r.returncode or len(good) != 1 or len(valid) != 1:
    fail("gpg --verify: " + r.stderr.decode(errors="replace"))
if want and valid[0][-1] != want:
    fail("signed by %s, not %s" % (valid[0][-1], want))
part = email.message_from_bytes(signed, policy=policy.compat32)
text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
sys.stdout.write(text.replace("\r\n", "\n"))
