#!/usr/bin/env python3
"""phototool - synthetic photos with metadata, and the photos of queued mail.

  phototool.py jpeg FILE      a small JPEG (SOI, APP0 JFIF, APP1 Exif with a
                              GPS-looking and a name marker, APP14 Adobe, COM,
                              DQT, SOF0, DHT, SOS, scan data, EOI)
  phototool.py png FILE       a 1x1 PNG with tEXt, iTXt, zTXt, tIME and eXIf
                              chunks holding markers
  phototool.py queue SPOOL DIR
                              one line per queued message: QID, its list, its
                              recipients, its Content-Type and the attachment's
                              type and file name (or "-"); every attachment
                              decoded into DIR/QID, the text part into DIR/QID.txt
No real photo: every byte is made here.
"""
import email
import glob
import os
import struct
import sys
import zlib
from email import policy

MARKERS = [b"GPSLatitude 34.6913N MARKER-GPS", b"MARKER-NAME Kobe Hanako",
           b"MARKER-COMMENT", b"MARKER-TEXT", b"MARKER-ITXT", b"MARKER-ZTXT",
           b"MARKER-EXIF-PNG"]


def seg(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(path):
    exif = (b"Exif\0\0MM\0*\0\0\0\x08" + MARKERS[0] + b"\0" + MARKERS[1] + b"\0")
    out = b"\xFF\xD8"
    out += seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0")
    out += seg(0xE1, exif)
    out += seg(0xEE, b"Adobe\0\x64\0\0\0\0\x01")
    out += seg(0xFE, MARKERS[2])
    out += seg(0xDB, b"\0" + bytes(range(1, 65)))
    out += seg(0xC0, b"\x08\0\x01\0\x01\x01\x01\x11\0")
    out += seg(0xC4, b"\0" + bytes([1] + [0] * 15) + b"\0")
    out += seg(0xDA, b"\x01\x01\0\0\x3F\0")
    out += b"\x12\x34\xFF\x00\x56"          # scan data, a stuffed 0xFF
    out += b"\xFF\xD9"
    open(path, "wb").write(out)


def chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data +
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png(path):
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    out += chunk(b"tEXt", b"Author\0" + MARKERS[3])
    out += chunk(b"iTXt", b"Comment\0\0\0\0\0" + MARKERS[4])
    out += chunk(b"zTXt", b"Title\0\0" + zlib.compress(MARKERS[5]) + MARKERS[5])
    out += chunk(b"tIME", struct.pack(">HBBBBB", 2026, 11, 1, 9, 0, 0))
    out += chunk(b"eXIf", b"MM\0*\0\0\0\x08" + MARKERS[6] + MARKERS[0])
    out += chunk(b"IDAT", zlib.compress(b"\0\xff\x00\x00"))
    out += chunk(b"IEND", b"")
    open(path, "wb").write(out)


def queue(spool, outdir):
    for env in sorted(glob.glob(os.path.join(spool, "queue/env/*"))):
        qid = os.path.basename(env)
        lines = open(env).read().splitlines()
        lst = [l[5:] for l in lines if l.startswith("list ")]
        rcpts = [l[5:] for l in lines if l.startswith("rcpt ")]
        m = email.message_from_bytes(open(os.path.join(spool, "queue/msg", qid), "rb").read(),
                                     policy=policy.default)
        att = "-"
        for part in m.walk():
            if part.get_content_maintype() == "multipart":
                continue
            if part.get_content_disposition() == "attachment":
                att = "%s %s" % (part.get_content_type(), part.get_filename())
                open(os.path.join(outdir, qid), "wb").write(part.get_payload(decode=True))
            elif part.get_content_type() == "text/plain":
                open(os.path.join(outdir, qid + ".txt"), "w").write(part.get_content())
        print(qid, lst[0] if lst else "-", ",".join(rcpts), m.get_content_type(), att)


def check(path):
    """Print what a stripped photo still holds, and whether it is whole."""
    data = open(path, "rb").read()
    for mk in MARKERS:
        if mk in data or mk.split()[-1] in data:
            print("marker", mk.decode())
    if data.startswith(b"\xFF\xD8"):
        print("jpeg", "eoi" if data.endswith(b"\xFF\xD9") else "no-eoi",
              "jfif" if b"JFIF\0" in data else "no-jfif",
              "adobe" if b"Adobe" in data else "no-adobe",
              "exif" if b"Exif" in data else "no-exif")
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        pos, kinds = 8, []
        while pos + 8 <= len(data):
            n, = struct.unpack(">I", data[pos:pos + 4])
            kind = data[pos + 4:pos + 8]
            if zlib.crc32(kind + data[pos + 8:pos + 8 + n]) & 0xFFFFFFFF != \
                    struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
                print("bad-crc", kind.decode())
            kinds.append(kind.decode())
            pos += 12 + n
        print("png", " ".join(kinds), "end" if pos == len(data) else "trailing")
    else:
        print("neither")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "jpeg":
        jpeg(sys.argv[2])
    elif cmd == "png":
        png(sys.argv[2])
    elif cmd == "queue":
        queue(sys.argv[2], sys.argv[3])
    elif cmd == "check":
        check(sys.argv[2])
    else:
        sys.exit("usage: see the docstring")
