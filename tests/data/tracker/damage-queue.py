#!/usr/bin/env python3
"""damage-queue.py - hazgate tracker tests: damage a hz_queue directory the
way storage and power cuts do.

  damage-queue.py DIR flip SEQ      flip one byte in the payload of record SEQ
  damage-queue.py DIR torn          append a record cut short (header and
                                    part of the payload), as a power cut
                                    during an append leaves it
  damage-queue.py DIR list          print "seq offset length" per record

Records (see common/hz_queue.h): "TQR1", u32 length, u64 id, u32 CRC-32,
payload; little-endian.  Works on the newest segment for "torn" and on
whichever segment holds SEQ for "flip".
"""
import glob
import os
import struct
import sys
import zlib


def records(path):
    data = open(path, "rb").read()
    off = 0
    while off + 20 <= len(data):
        magic, length, rid, crc = struct.unpack_from("<4sIQI", data, off)
        if magic != b"TQR1":
            break
        yield rid, off, length
        off += 20 + length


def main():
    d, op = sys.argv[1], sys.argv[2]
    segs = sorted(glob.glob(os.path.join(d, "*.seg")))
    if not segs:
        sys.exit("no segments in %s" % d)
    if op == "list":
        for s in segs:
            for rid, off, length in records(s):
                print(rid, off, length, os.path.basename(s))
        return 0
    if op == "flip":
        want = int(sys.argv[3])
        for s in segs:
            for rid, off, length in records(s):
                if rid == want:
                    with open(s, "r+b") as f:
                        f.seek(off + 20 + length // 2)
                        b = f.read(1)
                        f.seek(off + 20 + length // 2)
                        f.write(bytes([b[0] ^ 0x20]))
                    return 0
        sys.exit("record %d not found" % want)
    if op == "torn":
        s = segs[-1]
        last = max(rid for rid, _, _ in records(s))
        payload = b'{"vehicle":"torn","seq":%d}' % (last + 1)
        crc = zlib.crc32(struct.pack("<IQ", len(payload), last + 1) + payload) & 0xffffffff
        rec = struct.pack("<4sIQI", b"TQR1", len(payload), last + 1, crc) + payload
        with open(s, "ab") as f:
            f.write(rec[: 20 + len(payload) // 2])
        return 0
    sys.exit("unknown operation %s" % op)


if __name__ == "__main__":
    sys.exit(main())
