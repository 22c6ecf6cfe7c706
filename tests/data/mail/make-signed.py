# make-signed.py FPR: print a PGP/MIME signed request mail made by other
# tools than ours: python3's email package writes the structure, gpg
# (in $GNUPGHOME) makes the detached signature of the first part.
import subprocess, sys
from email import policy
from email.charset import Charset, QP
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

fpr = sys.argv[1]
text = ("request-id: 2026-11-21-0001\nsent: 2026-11-21T09:40:00+09:00\n"
        "type: alert\nclothing: 紺色のジャンパー\n")
cs = Charset("utf-8")
cs.body_encoding = QP
part = MIMEText(text, "plain", cs)
signed = part.as_bytes(policy=policy.SMTP)
sig = subprocess.run(["gpg", "--batch", "--armor", "--detach-sign", "--local-user", fpr,
                      "--digest-algo", "SHA256"], input=signed, check=True,
                     stdout=subprocess.PIPE).stdout
msg = MIMEMultipart("signed", micalg="pgp-sha256", protocol="application/pgp-signature")
msg["From"] = "ops@vendor.example.jp"
msg["To"] = "requests@example.jp"
msg["Subject"] = Header("依頼 2026-11-21-0001", "utf-8").encode()
msg.attach(part)
msg.attach(MIMEApplication(sig, "pgp-signature", lambda p: None, name="signature.asc"))
out = msg.as_bytes(policy=policy.SMTP)
if signed not in out:
    sys.exit("make-signed.py: the email package changed the signed part")
sys.stdout.buffer.write(out)
