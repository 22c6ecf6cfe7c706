# converge.py BIN DEMO DATA SEED CHANGES LOSS AGENCY...: replication between
# the demo's custodian and the nodes of AGENCY... over lossy hand carriage.
# Day by day the custodian takes changes (new, changed, moved ward,
# renewed, cancelled; then the unrenewed first records expire), exports,
# and every bundle (and every receipt bundle coming back) is lost, held
# back to arrive after newer ones, or duplicated at random (LOSS percent
# lost or held); transfers go on until a day passes with nothing written
# and nothing in transit. Then each node's registry is checked against
# the custodian's view of its scope, and every destruction against its
# acknowledgements. Prints the figures; exit 1 on any difference.
import datetime, glob, os, random, re, shutil, subprocess, sys

binary, demo, data, seed, nchanges, loss = sys.argv[1:7]
agencies = sys.argv[7:]
rng = random.Random(int(seed))
nchanges, loss = int(nchanges), int(loss) / 100.0
day0 = datetime.date(2026, 11, 21)
today = day0
stats = dict(new=0, changed=0, moved=0, renewed=0, cancelled=0, expired=0,
             bundles=0, receipts=0, lost=0, held=0, duplicated=0, rounds=0,
             replays=0, waited=0)
KIND = {'ward-chuo': 'ward-office', 'ward-nada': 'ward-office', 'police-ikuta': 'police',
        'police-nada': 'police', 'center-chuo-1': 'care-center',
        'center-nada-1': 'care-center', 'vendor': 'mail-vendor'}
WARDS = {'ward-chuo': 'chuo', 'ward-nada': 'nada', 'police-ikuta': 'chuo',
         'police-nada': 'nada'}


def cfg(node):
    return os.path.join(demo, 'mimamori.xml' if node == 'council' else
                        'nodes/%s/mimamori.xml' % node)


def spool(node):
    return os.path.join(demo, 'spool' if node == 'council' else 'nodes/%s/spool' % node)


def run(node, *args, ok=(0,)):
    env = dict(os.environ, MIMAMORI_NOW='%sT12:00:00+09:00' % today.isoformat())
    p = subprocess.run([binary, '-c', cfg(node)] + list(args), env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode not in ok:
        sys.exit('%s %s: exit %d\n%s%s' % (node, ' '.join(args), p.returncode, p.stdout,
                                           p.stderr))
    return p.stdout


template = open(os.path.join(data, 'registration/valid-minimal.xml'), encoding='utf-8').read()
person_re = re.compile(r'<person>.*</person>', re.S)
records = {}     # id -> [person xml, registered day]
serial = 0
people = 0


def person_of(n, ward):
    addr = ('<address ward="nada">神戸市灘区岩屋中町3-3-%d</address>' % n if ward == 'nada'
            else '<address ward="chuo">神戸市中央区加納町6-5-%d</address>' % n)
    p = person_re.search(template).group(0)
    p = p.replace('すま はるこ', 'てすと %d' % n).replace('須磨 春子', '須磨 春子%d' % n)
    p = p.replace('1950-01-15', '19%02d-%02d-%02d' % (30 + n % 20, n % 12 + 1, n % 28 + 1))
    return re.sub(r'<address[^>]*>[^<]*</address>', addr, p)


def doc(kind, body):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<%s xmlns="urn:mimamori:1">%s</%s>\n'
            % (kind, body, kind))


def submit(docs):
    global serial
    if not docs:
        return
    paths, by_name = [], {}
    for kind, text in docs:
        serial += 1
        name = 'doc-%06d.xml' % serial
        path = os.path.join(demo, '..', name)
        open(path, 'w', encoding='utf-8').write(text)
        paths.append(path)
        by_name[name] = (kind, text)
    for path in paths:    # incoming/ is the users' folder: write it directly
        inc = os.path.join(spool('council'), 'incoming')
        tmp = os.path.join(inc, '.' + os.path.basename(path))
        shutil.copy(path, tmp)
        os.chmod(tmp, 0o600)
        os.rename(tmp, os.path.join(inc, os.path.basename(path)))
    out = run('council', 'intake')
    for line in out.splitlines():
        m = re.match(r'(accepted|rejected) incoming/(doc-\d+\.xml)\s*(\S*)', line)
        if not m:
            continue
        kind, text = by_name[m.group(2)]
        if m.group(1) != 'accepted':
            sys.exit('intake refused a %s: %s' % (kind, line))
        if kind == 'registration':
            records[m.group(3)] = [person_re.search(text).group(0), today]
    for p in paths:
        os.unlink(p)


def new(ward=None):
    global people
    ward = ward or rng.choice(['chuo', 'nada'])
    people += 1
    n = people
    body = person_re.sub(lambda m: person_of(n, ward), template.split('>', 2)[2])
    body = body.replace('center-nada-1', 'center-%s-1' % ward)
    body = body.rsplit('</registration>', 1)[0]
    stats['new'] += 1
    return ('registration', doc('registration', body))


def change(rid, move):
    p = records[rid][0]
    if move:
        n = int(re.search(r'-(\d+)</address>', p).group(1))
        ward = 'chuo' if 'ward="nada"' in p else 'nada'
        addr = re.compile(r'<address[^>]*>[^<]*</address>')
        p = addr.sub(addr.search(person_of(n, ward)).group(0), p)
        stats['moved'] += 1
    else:
        p = p.replace('<usual-places>', '<usual-places>%d ' % rng.randint(1, 99), 1)
        stats['changed'] += 1
    records[rid][0] = p
    return ('change', doc('change', '<id>%s</id><date>%s</date>%s' % (rid, today, p)))


def renew(rid):
    stats['renewed'] += 1
    return ('renewal', doc('renewal', '<id>%s</id><date>%s</date><consent date="%s" '
                           'share="yes" broadcast="yes" signed-by="person"/>' %
                           (rid, today, today)))


def cancel(rid):
    stats['cancelled'] += 1
    del records[rid]
    return ('cancellation', doc('cancellation', '<id>%s</id><date>%s</date>'
                                '<reason>%s</reason>' % (rid, today,
                                                         rng.choice(['death', 'facility', 'moved-out', 'other']))))


held = {}        # destination node -> [bundle paths held back]


def carry(files, dest):
    """Carry bundle files to dest's import/: lost, held back or duplicated."""
    imp = os.path.join(spool(dest), 'import')
    pool = held.setdefault(dest, [])
    late, pool[:] = pool[:], []
    for f in sorted(files, key=lambda f: int(f.rsplit('-', 1)[1].split('.')[0])):
        r = rng.random()
        if r < loss / 2:
            stats['lost'] += 1
            os.unlink(f)
            continue
        if r < loss:
            stats['held'] += 1
            keep = os.path.join(demo, '..', 'held-' + os.path.basename(f))
            shutil.move(f, keep)
            pool.append(keep)
            continue
        if rng.random() < 0.1:
            stats['duplicated'] += 1
            keep = os.path.join(demo, '..', 'dup-' + os.path.basename(f))
            shutil.copy(f, keep)
            pool.append(keep)
        shutil.move(f, os.path.join(imp, os.path.basename(f)))
    # What was held back arrives after the newer ones.
    for keep in late:
        name = os.path.basename(keep).split('-', 1)[1]
        shutil.move(keep, os.path.join(imp, name))


def node_import(node):
    out = run(node, 'import')
    stats['replays'] += out.count('replayed or old')
    stats['waited'] += out.count('\nwaiting') + out.startswith('waiting')
    bad = [l for l in out.splitlines() if l.startswith('rejected') and 'replayed or old' not in l]
    if bad:
        sys.exit('%s: %s' % (node, bad))


def day(docs, expire=False):
    """One day: the changes, then one round of transfers. Whether anything moved."""
    global today
    stats['rounds'] += 1
    submit(docs)
    if expire:
        out = run('council', 'expire')
        stats['expired'] += len(re.findall(r'^destroyed R', out, re.M))
    out = run('council', 'export')
    wrote = sum(out.count('wrote outgoing/%s/' % a) for a in agencies)
    stats['bundles'] += wrote
    for a in agencies:
        carry(glob.glob(os.path.join(spool('council'), 'outgoing', a, '*.tar.gpg')), a)
    for f in glob.glob(os.path.join(spool('council'), 'outgoing', '*', '*.tar.gpg')):
        os.unlink(f)     # agencies without a node here
    back = []
    for a in agencies:
        if expire:
            run(a, 'expire')
        node_import(a)
        out = run(a, 'export')
        wrote += out.count('wrote ')
        stats['receipts'] += out.count('wrote ')
        back += glob.glob(os.path.join(spool(a), 'outgoing', 'council', '*.tar.gpg'))
    carry(back, 'council')
    node_import('council')
    today += datetime.timedelta(days=1)
    return wrote or any(held.values())


# Phase 1: the first records, registered on day 0.
first = max(6, nchanges // 10)
day([new() for _ in range(first)])
early = sorted(records)
# Phase 2: two years later, a few weeks before they expire: changes a day.
today = day0 + datetime.timedelta(days=730 - 20)
left = nchanges - first
while left > 0:
    docs, touched = [], set()
    for _ in range(min(left, max(10, nchanges // 6))):
        live = [r for r in records if r not in touched]
        k = rng.random()
        if k < 0.3 or len(live) < 5:
            docs.append(new())
        else:
            rid = rng.choice(live)
            touched.add(rid)
            if k < 0.5:
                docs.append(change(rid, False))
            elif k < 0.65:
                docs.append(change(rid, True))
            elif k < 0.8 and rid in early:
                docs.append(renew(rid))
            elif k < 0.9 and rid not in early:
                docs.append(renew(rid))
            else:
                docs.append(cancel(rid))
        left -= 1
    day(docs)
# Phase 3: past the first records' expiry; then transfers until quiet.
today = day0 + datetime.timedelta(days=731)
day([], expire=True)
quiet = 0
for _ in range(60):
    if not day([]):
        quiet = 1
        break
if not quiet:
    sys.exit('not quiet after 60 days of transfers')

# The check: each node holds exactly the custodian's view of its scope.
def listing(node):
    rows = [l.split(',') for l in run(node, 'list', '--all', '--csv').splitlines()[1:]]
    return {r[0]: r for r in rows}


council = listing('council')
errors = []
tombstones = [i for i, r in council.items() if r[5] != 'active']
for a in agencies:
    def in_scope(r):
        if KIND[a] in ('ward-office', 'police'):
            return r[1] == WARDS[a]
        if KIND[a] == 'care-center':
            return r[2] == a
        return True
    want = sorted(i for i, r in council.items() if r[5] == 'active' and in_scope(r))
    have = sorted(i for i, r in listing(a).items() if r[5] == 'active')
    if want != have:
        errors.append('%s: holds %s, the custodian gives it %s' % (
            a, sorted(set(have) - set(want)), sorted(set(want) - set(have))))
    sample = want if os.environ.get('CONVERGE_FULL') else rng.sample(want, min(8, len(want)))
    for i in sample:
        if run(a, 'show', i) != run('council', 'show', i, '--as', KIND[a]):
            errors.append('%s: %s differs from the custodian\'s view' % (a, i))
pending = 0
for i in tombstones:
    for line in run('council', 'show', i, ok=(65,)).splitlines():
        ag, when = line.split()
        if ag in agencies and when == 'pending':
            errors.append('%s: destruction of %s not acknowledged' % (ag, i))
            pending += 1
ex = run('council', 'exchange', '--csv').splitlines()
for line in ex[1:]:
    f = line.split(',')
    if f[0] in agencies and f[5:] != ['0', '0', '-']:
        errors.append('exchange: %s' % line)
changes = sum(stats[k] for k in ('new', 'changed', 'moved', 'renewed', 'cancelled', 'expired'))
print('converged' if not errors else 'DIVERGED', '%d nodes, %d changes (%s), %d active records, '
      '%d destroyed; %d bundles and %d receipt bundles written, %d lost, %d held back '
      '(reordered), %d duplicated, %d refused as replays, %d waited; quiet after %d days'
      % (len(agencies) + 1, changes, ', '.join('%s %d' % (k, stats[k]) for k in
         ('new', 'changed', 'moved', 'renewed', 'cancelled', 'expired')),
         sum(1 for r in council.values() if r[5] == 'active'), len(tombstones),
         stats['bundles'], stats['receipts'], stats['lost'], stats['held'],
         stats['duplicated'], stats['replays'], stats['waited'], stats['rounds']))
for e in errors[:20]:
    print(e)
sys.exit(1 if errors else 0)
