# craft-bundle.py OUT FROM TO SEQ ENTRY...: a bundle's tar with a manifest listing
# the regular entries. ENTRY: name=file | name@symlink=target |
# name@hardlink=target | name@chr | name@fifo | name@zeros=N | name@empty |
# many@N (N empty records); a name starting with ! is left out of the
# manifest (the ! is dropped). $CRAFT_PREVIOUS adds <previous>;
# $CRAFT_COMPLETE=yes marks the manifest complete.
import hashlib, io, os, sys, tarfile
out, frm, to, seq = sys.argv[1:5]
entries = []
for arg in sys.argv[5:]:
    if arg.startswith('many@'):
        for i in range(1, int(arg[5:]) + 1):
            entries.append(('records/R2026-%06d.xml' % i, 'empty', ''))
        continue
    if '@' in arg.split('=')[0]:
        name, spec = arg.split('@', 1)
    else:
        name, spec = arg.split('=', 1)
        spec = 'file=' + spec
    kind, _, val = spec.partition('=')
    entries.append((name, kind, val))
unlisted = set(e[0][1:] for e in entries if e[0].startswith('!'))
entries = [(n.lstrip('!'), k, v) for n, k, v in entries]
def data_of(kind, val):
    if kind == 'file':
        return open(val, 'rb').read()
    if kind == 'zeros':
        return b'\0' * int(val)
    return b''
listed = []
for name, kind, val in entries:
    if kind in ('file', 'zeros', 'empty') and name not in unlisted:
        d = data_of(kind, val)
        listed.append('<entry name="%s" sha256="%s" size="%d"/>' % (
            name, hashlib.sha256(d).hexdigest(), len(d)))
listed = ''.join(listed)
complete = os.environ.get('CRAFT_COMPLETE')
previous = os.environ.get('CRAFT_PREVIOUS')
manifest = ('<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="urn:mimamori:1"%s>'
            '<from>%s</from><to>%s</to><sequence>%s</sequence>%s'
            '<created>2026-11-21T09:00:00+09:00</created><entries>%s</entries></manifest>\n'
            % (' complete="%s"' % complete if complete else '', frm, to, seq,
               '<previous>%s</previous>' % previous if previous else '', listed)).encode()
with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo('manifest.xml'); ti.size = len(manifest)
    t.addfile(ti, io.BytesIO(manifest))
    for name, kind, val in entries:
        ti = tarfile.TarInfo(name)
        if kind == 'symlink':
            ti.type = tarfile.SYMTYPE; ti.linkname = val; t.addfile(ti)
        elif kind == 'hardlink':
            ti.type = tarfile.LNKTYPE; ti.linkname = val; t.addfile(ti)
        elif kind == 'chr':
            ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3; t.addfile(ti)
        elif kind == 'fifo':
            ti.type = tarfile.FIFOTYPE; t.addfile(ti)
        else:
            d = data_of(kind, val); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
