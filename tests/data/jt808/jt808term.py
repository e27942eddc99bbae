#!/usr/bin/env python3
"""jt808term.py - a small JT/T 808 terminal for hazgate-jt808's tests.

    jt808term.py HOST PORT SCRIPT

SCRIPT is one step a line (blank lines and # comments skipped):
  phone DIGITS            the header's phone (12 digits: 2013, 20: 2019)
  v2019 0|1               header form (also set by the phone's length)
  register PLATE          0x0100 (plate in GBK); waits for 0x8100, prints
                          "8100 RESULT CODE" and keeps CODE
  auth [CODE]             0x0102 with CODE (default: the kept one); waits
                          for 0x8001, prints "8001 0102 RESULT"
  heartbeat               0x0002 -> prints "8001 0002 RESULT"
  loc LAT LON [ALARM [STATUS [TIME]]]   0x0200 (TIME YYMMDDhhmmss GMT+8);
                          waits for 0x8001, prints "8001 0200 RESULT"
  send_loc ...            as loc, not waiting
  batch TYPE LAT,LON,TIME ...   0x0704 -> "8001 0704 RESULT"
  raw HEX                 bytes as they are (no framing); no wait
  frame ID HEX            a message with that id and body, framed; waits
                          for a reply, prints it
  badcheck ID HEX         as frame, with a wrong check code
  expect_none SECONDS     fails if anything arrives within SECONDS
  wait_close SECONDS      prints "closed" if the server closes in time
  sleep SECONDS
  flood N                 N heartbeats, never reading the answers, as fast as
                          the server takes them (stops when a send would
                          wait 3 s); prints "flooded SENT"
Each reply printed is "MSGID_OF_REPLY REPLIED_ID RESULT". Exit 1 on a
timeout (10 s) waiting for a reply.
"""
import socket
import sys
import time

serial = 0
phone = "013800138000"
v2019 = False
code = b""
buf = b""


def bcd(digits):
    return bytes(int(digits[i:i + 2], 16) for i in range(0, len(digits), 2))


def escape(b):
    return b.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(b):
    return b.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


def xor(b):
    x = 0
    for c in b:
        x ^= c
    return x


def message(msg_id, body, bad_check=False):
    global serial
    serial = (serial + 1) & 0xffff
    attr = len(body) & 0x3ff
    if v2019:
        attr |= 0x4000
        head = msg_id.to_bytes(2, "big") + attr.to_bytes(2, "big") + b"\x01" + bcd(phone.rjust(20, "0"))
    else:
        head = msg_id.to_bytes(2, "big") + attr.to_bytes(2, "big") + bcd(phone.rjust(12, "0"))
    m = head + serial.to_bytes(2, "big") + body
    c = xor(m) ^ (0x55 if bad_check else 0)
    return b"\x7e" + escape(m + bytes([c])) + b"\x7e"


def read_frame(sock, timeout):
    global buf
    end = time.time() + timeout
    while True:
        s = buf.find(b"\x7e")
        if s >= 0:
            e = buf.find(b"\x7e", s + 1)
            if e > s + 1:
                f = unescape(buf[s + 1:e])
                buf = buf[e:]
                return f[:-1]
            if e == s + 1:
                buf = buf[e:]
                continue
        left = end - time.time()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            d = sock.recv(4096)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return b""
        if not d:
            return b""
        buf += d


def parse_reply(f):
    msg_id = int.from_bytes(f[0:2], "big")
    attr = int.from_bytes(f[2:4], "big")
    hl = 17 if attr & 0x4000 else 12
    body = f[hl:]
    return msg_id, body


def wait_reply(sock):
    f = read_frame(sock, 10)
    if f is None:
        print("timeout")
        sys.exit(1)
    if f == b"":
        print("closed")
        sys.exit(1)
    msg_id, body = parse_reply(f)
    if msg_id == 0x8001:
        print("8001 %04x %d" % (int.from_bytes(body[2:4], "big"), body[4]))
    elif msg_id == 0x8100:
        global code
        res = body[2]
        code = body[3:] if res == 0 else b""
        print("8100 %d %s" % (res, code.decode()))
    else:
        print("%04x %s" % (msg_id, body.hex()))
    sys.stdout.flush()


def loc_body(lat, lon, alarm=0, status=0x3, t="260101120000"):
    st = int(status)
    la, lo = float(lat), float(lon)
    if la < 0:
        st |= 4
    if lo < 0:
        st |= 8
    b = int(alarm).to_bytes(4, "big") + st.to_bytes(4, "big")
    b += int(round(abs(la) * 1e6)).to_bytes(4, "big") + int(round(abs(lo) * 1e6)).to_bytes(4, "big")
    b += (800).to_bytes(2, "big") + (600).to_bytes(2, "big") + (90).to_bytes(2, "big")
    b += bcd(t)
    b += b"\x01\x04" + (12345).to_bytes(4, "big") + b"\x31\x01\x0a"
    return b


def main():
    global phone, v2019
    sock = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    for line in open(sys.argv[3]):
        w = line.split()
        if not w or w[0].startswith("#"):
            continue
        op = w[0]
        if op == "phone":
            phone = w[1]
            v2019 = len(phone) > 12
        elif op == "v2019":
            v2019 = w[1] == "1"
        elif op == "register":
            plate = w[1].encode("gbk") if len(w) > 1 else b""
            if v2019:
                body = (14).to_bytes(2, "big") + (100).to_bytes(2, "big") + b"MAKER".ljust(11, b"\0") + \
                    b"MODEL".ljust(30, b"\0") + b"T1".ljust(30, b"\0") + b"\x01" + plate
            else:
                body = (14).to_bytes(2, "big") + (100).to_bytes(2, "big") + b"MAKER" + \
                    b"MODEL".ljust(20, b"\0") + b"T00001\0" + b"\x01" + plate
            sock.sendall(message(0x0100, body))
            wait_reply(sock)
        elif op == "auth":
            c = w[1].encode() if len(w) > 1 else code
            if v2019:
                body = bytes([len(c)]) + c + b"123456789012345" + b"1.0".ljust(20, b"\0")
            else:
                body = c
            sock.sendall(message(0x0102, body))
            wait_reply(sock)
        elif op == "heartbeat":
            sock.sendall(message(0x0002, b""))
            wait_reply(sock)
        elif op == "loc":
            sock.sendall(message(0x0200, loc_body(*w[1:])))
            wait_reply(sock)
        elif op == "send_loc":
            sock.sendall(message(0x0200, loc_body(*w[1:])))
        elif op == "batch":
            items = b""
            for it in w[2:]:
                la, lo, t = it.split(",")
                b = loc_body(la, lo, 0, 3, t)
                items += len(b).to_bytes(2, "big") + b
            body = (len(w) - 2).to_bytes(2, "big") + bytes([int(w[1])]) + items
            sock.sendall(message(0x0704, body))
            wait_reply(sock)
        elif op == "raw":
            d = bytes.fromhex(w[1]) if all(c in "0123456789abcdefABCDEF" for c in w[1]) else w[1].encode()
            try:
                sock.sendall(d)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif op in ("frame", "badcheck"):
            sock.sendall(message(int(w[1], 16), bytes.fromhex(w[2]) if len(w) > 2 else b"",
                                 op == "badcheck"))
            wait_reply(sock)
        elif op == "expect_none":
            f = read_frame(sock, float(w[1]))
            if f:
                print("unexpected", f.hex())
                sys.exit(1)
        elif op == "wait_close":
            f = read_frame(sock, float(w[1]))
            print("closed" if f == b"" else "open")
        elif op == "sleep":
            time.sleep(float(w[1]))
        elif op == "flood":
            one = message(0x0002, b"")
            chunk = one * 1000
            sent = 0
            sock.settimeout(3)
            try:
                while sent < int(w[1]):
                    sock.sendall(chunk)
                    sent += 1000
            except socket.timeout:
                pass
            print("flooded %d" % sent)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
