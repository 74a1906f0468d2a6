#!/usr/bin/python3
"""Generates the store's test vectors with the DataStax Python driver (Debian python3-cassandra).

    /usr/bin/python3 scripts/gen_store_vectors.py     (writes tests/data/store_types.tsv and
                                                        tests/data/store_murmur3.tsv)

store_types.tsv: one value per line, "TYPE<TAB>RANK<TAB>HEX<TAB>LITERAL":
  TYPE     the CQL type (as system_schema prints it)
  RANK     the value's position in Cassandra's order among the lines of the same TYPE (equal
           values share a rank; -1 when the type has no order worth testing)
  HEX      the value serialized by the driver (cassandra.cqltypes ... .serialize, protocol v4)
  LITERAL  the same value as a CQL literal, which the store must parse to exactly HEX ("-" for
           values whose literal would hold control characters)
The ranks follow Cassandra's comparators (org.apache.cassandra.db.marshal.*Type.compare):
numbers numerically (Float.compare for float/double: -0.0 < 0.0, NaN last), text and blob as
unsigned bytes, timestamps as signed longs, dates and times as unsigned, uuid by version then (v1)
timestamp then unsigned bytes, timeuuid by timestamp then signed lsb bytes, frozen collections
element-wise with shorter-prefix first, tuples field-wise with null before any value.

store_murmur3.tsv: "S<TAB>KEYHEX<TAB>TOKEN" single-component keys and
"C<TAB>HEX1,HEX2[,HEX3]<TAB>TOKEN" composite keys hashed over [u16 len][bytes][00] per
component, tokens from cassandra.murmur3.murmur3 (Cassandra's sign-extending variant)."""

import datetime
import decimal
import ipaddress
import math
import os
import random
import struct
import sys
import uuid

from cassandra import cqltypes as ct
from cassandra.murmur3 import murmur3
from cassandra.util import Duration, Date, Time, SortedSet

PROTO = 4
rng = random.Random(20240601)
M = 'org.apache.cassandra.db.marshal.'
CLASSES = {
    'ascii': 'AsciiType', 'bigint': 'LongType', 'blob': 'BytesType', 'boolean': 'BooleanType',
    'decimal': 'DecimalType', 'double': 'DoubleType', 'float': 'FloatType', 'int': 'Int32Type',
    'timestamp': 'TimestampType', 'uuid': 'UUIDType', 'text': 'UTF8Type', 'varint': 'IntegerType',
    'timeuuid': 'TimeUUIDType', 'inet': 'InetAddressType', 'date': 'SimpleDateType', 'time': 'TimeType',
    'smallint': 'ShortType', 'tinyint': 'ByteType', 'duration': 'DurationType', 'counter': 'CounterColumnType',
}


def casstype(cql):
    return ct.lookup_casstype(M + CLASSES[cql])


def ser(t, v):
    return t.serialize(v, PROTO)


def q(s):
    return "'" + s.replace("'", "''") + "'"


out = []


def emit(typ, rank, data, literal):
    if any(ord(c) < 32 for c in literal):
        literal = '-'   # control characters: the value is tested from its bytes only
    out.append('%s\t%d\t%s\t%s' % (typ, rank, data.hex(), literal))


def ranked(typ, items, key):
    """items: (python value, literal); emits them with ranks by key (equal keys share a rank)."""
    t = casstype(typ)
    items = sorted(items, key=lambda it: key(it[0]))
    rank, prev = -1, object()
    for v, lit in items:
        k = key(v)
        if k != prev:
            rank += 1
            prev = k
        emit(typ, rank, ser(t, v), lit)


# ---- integers ----
for typ, bits in (('tinyint', 8), ('smallint', 16), ('int', 32), ('bigint', 64), ('varint', 200)):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    vals = {0, 1, -1, lo, hi, lo + 1, hi - 1, 127, 128, -128, -129, 255, 256}
    vals = {v for v in vals if lo <= v <= hi}
    while len(vals) < 60:
        b = rng.randint(1, bits - 1)
        vals.add(rng.choice([-1, 1]) * rng.randint(0, (1 << b) - 1))
    vals = {v for v in vals if lo <= v <= hi}
    ranked(typ, [(v, str(v)) for v in vals], lambda v: v)

# ---- floating point ----


def fkey(v):
    # Float.compare / Double.compare
    if math.isnan(v):
        return (2, 0)
    return (1, v, math.copysign(1, v))


def flit(v):
    if math.isnan(v):
        return 'NaN'
    if math.isinf(v):
        return 'Infinity' if v > 0 else '-Infinity'
    return repr(v)


for typ in ('float', 'double'):
    vals = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-45 if typ == 'float' else 5e-324, 3.4e38 if typ == 'float' else 1.7e308,
            float('inf'), float('-inf'), float('nan'), 123.456, -0.001]
    for _ in range(50):
        vals.append(rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30))
    if typ == 'float':
        vals = [struct.unpack('>f', struct.pack('>f', v))[0] for v in vals]
    ranked(typ, [(v, flit(v)) for v in vals], fkey)

# ---- decimal ----
decs = ['0', '0.0', '1', '1.0', '1.00', '-1', '0.001', '-0.001', '123456789012345678901234567890.5', '-5E+3', '5E-10',
        '1E+2', '100', '99.99', '-99.99']
for _ in range(40):
    decs.append('%s%d.%0*d' % (rng.choice(['', '-']), rng.randint(0, 10 ** rng.randint(0, 20)), rng.randint(0, 12),
                                rng.randint(0, 10 ** 12 - 1) % 10 ** 12) if rng.random() < 0.9 else '7E+5')
items = []
for s in decs:
    s = s.replace('.E', 'E').rstrip('.')
    d = decimal.Decimal(s)
    items.append((d, s))
ranked('decimal', items, lambda d: d)

# ---- text, ascii, blob ----
texts = ['', 'a', 'b', 'ab', 'a\x00b', 'zz', 'café', 'Ærø', '日本', '\U0001F600', "it's", 'A', 'a a']
for _ in range(30):
    texts.append(''.join(chr(rng.choice([rng.randint(32, 126), rng.randint(0xA0, 0x2FF), rng.randint(0x4E00, 0x4F00)]))
                         for _ in range(rng.randint(1, 8))))
ranked('text', [(s, q(s)) for s in set(texts)], lambda s: s.encode('utf-8'))
asc = [s for s in set(texts) if all(ord(c) < 128 for c in s)]
ranked('ascii', [(s, q(s)) for s in asc], lambda s: s.encode('ascii'))
blobs = {b'', b'\x00', b'\x00\x00', b'\x01', b'\xff', b'\x7f\x80', b'abc'}
while len(blobs) < 40:
    blobs.add(bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 6))))
ranked('blob', [(b, '0x' + b.hex()) for b in blobs], lambda b: b)

# ---- boolean ----
ranked('boolean', [(False, 'false'), (True, 'true')], lambda b: b)

# ---- timestamp, date, time ----
epoch = datetime.datetime(1970, 1, 1)
ts = [0, 1, -1, 1388534400000, 1700000000123, -62135596800000, 253402300799999]
ts += [rng.randint(-10 ** 13, 10 ** 13) for _ in range(30)]
ranked('timestamp', [(epoch + datetime.timedelta(milliseconds=m), str(m)) for m in set(ts)],
       lambda d: d - epoch)
days = [0, 1, -1, 19000, -719162, 2932896] + [rng.randint(-700000, 2900000) for _ in range(30)]
items = []
for d in set(days):
    dd = datetime.date(1970, 1, 1) + datetime.timedelta(days=d)
    items.append((Date(dd), q(dd.isoformat() if dd.year >= 1000 else '%04d-%02d-%02d' % (dd.year, dd.month, dd.day))))
ranked('date', items, lambda v: v.days_from_epoch)
nanos = [0, 1, 999999999, 86399999999999] + [rng.randint(0, 86399999999999) for _ in range(30)]
items = []
for n in set(nanos):
    s, ns = divmod(n, 10 ** 9)
    items.append((Time(n), q('%02d:%02d:%02d.%09d' % (s // 3600, s // 60 % 60, s % 60, ns))))
ranked('time', items, lambda v: v.nanosecond_time)

# ---- uuid, timeuuid ----


def uuid_key(u):
    b = u.bytes
    msb, lsb = struct.unpack('>QQ', b)
    ver = (msb >> 12) & 0xF
    if ver == 1:
        r = ((msb << 48) & 0xFFFFFFFFFFFFFFFF) | ((msb << 16) & 0xFFFF00000000) | (msb >> 32)
        return (ver, r, lsb)
    return (ver, msb, lsb)


def timeuuid_key(u):
    msb, lsb = struct.unpack('>QQ', u.bytes)
    r = ((msb << 48) & 0xFFFFFFFFFFFFFFFF) | ((msb << 16) & 0xFFFF00000000) | (msb >> 32)
    return (r, tuple(struct.unpack('>8b', u.bytes[8:])))   # lsb bytes compared signed


def v1(ts100ns, clock, node):
    tl = ts100ns & 0xFFFFFFFF
    tm = (ts100ns >> 32) & 0xFFFF
    th = (ts100ns >> 48) & 0x0FFF
    return uuid.UUID(fields=(tl, tm, th | 0x1000, (clock >> 8) | 0x80, clock & 0xFF, node))


uuids = [uuid.UUID(int=0), uuid.UUID('ffffffff-ffff-ffff-ffff-ffffffffffff')]
tuuids = []
for _ in range(25):
    uuids.append(uuid.UUID(bytes=bytes(rng.randint(0, 255) for _ in range(16)), version=4))
    t1 = v1(rng.randint(0, 1 << 60), rng.randint(0, 0x3FFF), rng.randint(0, (1 << 48) - 1))
    uuids.append(t1)
    tuuids.append(t1)
base = rng.randint(0, 1 << 60)
for node in (0, 0x7F0000000000, 0x800000000000, 0xFF0000000000):     # same time: signed lsb bytes decide
    tuuids.append(v1(base, 0x2000, node))
    tuuids.append(v1(base, 0x0100, node))
ranked('uuid', [(u, str(u)) for u in set(uuids)], uuid_key)
ranked('timeuuid', [(u, str(u)) for u in set(tuuids)], timeuuid_key)

# ---- inet ----
ips = ['0.0.0.0', '127.0.0.1', '10.0.0.1', '255.255.255.255', '::', '::1', 'fe80::1', '2001:db8::ff00:42:8329']
ips += ['%d.%d.%d.%d' % tuple(rng.randint(0, 255) for _ in range(4)) for _ in range(10)]
ranked('inet', [(ip, q(ip)) for ip in set(ips)], lambda ip: ipaddress.ip_address(ip).packed)

# ---- duration (no order) ----
dt = ct.lookup_casstype(M + 'DurationType')
for months, days_, ns, lit in ((0, 0, 0, '0s'), (1, 2, 3, '1mo2d3ns'), (14, 0, 3600 * 10 ** 9, '1y2mo1h'),
                              (-1, -2, -3, '-1mo2d3ns'), (0, 7, 90 * 10 ** 9, '1w1m30s'),
                              (0, 0, 1500000, '1ms500us'), (12, 3, 0, 'P1Y3D')):
    emit('duration', -1, ser(dt, Duration(months, days_, ns)), lit)

# ---- collections, tuples (serialization and frozen order) ----


def ptype(s):
    return ct.lookup_casstype(s)


LI = ptype(M + 'ListType(' + M + 'Int32Type)')
ST = ptype(M + 'SetType(' + M + 'UTF8Type)')
MP = ptype(M + 'MapType(' + M + 'UTF8Type,' + M + 'Int32Type)')
TU = ptype(M + 'TupleType(' + M + 'Int32Type,' + M + 'UTF8Type)')
LS = ptype(M + 'ListType(' + M + 'SetType(' + M + 'Int32Type))')


def ranked_t(name, t, items, key):
    items = sorted(items, key=lambda it: key(it[0]))
    rank, prev = -1, object()
    for v, lit in items:
        k = key(v)
        if k != prev:
            rank += 1
            prev = k
        out.append('%s\t%d\t%s\t%s' % (name, rank, ser(t, v).hex(), lit))


lists = [[], [0], [1], [1, 2], [1, 2, 3], [2], [-5, 9], [1, -1], [2147483647], [0, 0]]
ranked_t('frozen<list<int>>', LI, [(v, '[' + ', '.join(map(str, v)) + ']') for v in lists], lambda v: v)
sets = [set(), {'a'}, {'a', 'b'}, {'b'}, {'ab'}, {'a', 'c'}, {''}]
# sets go out sorted, as Cassandra stores them (a SortedSet keeps the driver from reordering)
ranked_t('frozen<set<text>>', ST, [(SortedSet(v), '{' + ', '.join(q(x) for x in sorted(v)) + '}') for v in sets],
         lambda v: [x.encode() for x in sorted(v, key=lambda x: x.encode())])
maps = [{}, {'a': 1}, {'a': 2}, {'a': 1, 'b': 0}, {'b': -1}]
ranked_t('frozen<map<text, int>>', MP,
         [(v, '{' + ', '.join('%s: %d' % (q(k), v[k]) for k in sorted(v)) + '}') for v in maps],
         lambda v: [(k.encode(), v[k]) for k in sorted(v)])
tuples = [(None, None), (None, 'a'), (0, None), (0, ''), (0, 'a'), (1, None), (1, 'b'), (-1, 'z')]


def tkey(v):
    return tuple((0,) if x is None else (1, x.encode() if isinstance(x, str) else x) for x in v)


ranked_t('frozen<tuple<int, text>>', TU,
         [(v, '(' + ', '.join('null' if x is None else (q(x) if isinstance(x, str) else str(x)) for x in v) + ')')
          for v in tuples], tkey)
ls = [[], [{1}], [{1, 2}], [{2}], [set()]]
out.extend('%s\t-1\t%s\t%s' % ('list<frozen<set<int>>>', ser(LS, [SortedSet(s) for s in v]).hex(),
                               '[' + ', '.join('{' + ', '.join(map(str, sorted(s))) + '}' for s in v) + ']')
           for v in ls if all(s for s in v))

here = os.path.dirname(os.path.abspath(__file__))
data = os.path.join(here, '..', 'tests', 'data')
with open(os.path.join(data, 'store_types.tsv'), 'w') as f:
    f.write('# generated by scripts/gen_store_vectors.py with python3-cassandra %s\n' % sys.modules['cassandra'].__version__)
    f.write('\n'.join(out) + '\n')

# ---- murmur3 ----
lines = []
for _ in range(3000):
    n = rng.choice([1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, rng.randint(1, 100)])
    k = bytes(rng.randint(0, 255) for _ in range(n))
    lines.append('S\t%s\t%d' % (k.hex(), murmur3(k)))
for s in ('k1', 'hello', '0123456789abcdef', 'café', 'Ærø'):
    k = s.encode()
    lines.append('S\t%s\t%d' % (k.hex(), murmur3(k)))
for _ in range(1000):
    comps = [bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 20))) for _ in range(rng.choice([2, 3]))]
    packed = b''.join(struct.pack('>H', len(c)) + c + b'\x00' for c in comps)
    lines.append('C\t%s\t%d' % (','.join(c.hex() for c in comps), murmur3(packed)))
with open(os.path.join(data, 'store_murmur3.tsv'), 'w') as f:
    f.write('# generated by scripts/gen_store_vectors.py with cassandra.murmur3 (python3-cassandra)\n')
    f.write('\n'.join(lines) + '\n')
print('wrote %d type vectors, %d murmur3 vectors' % (len(out), len(lines)))
