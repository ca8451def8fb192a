#!/usr/bin/env python3
"""A flood of unauthenticated logins against a running `jiuzhu serve`, while a logged-in clerk
opens a household page: the server's peak memory and the page's latency (docs/security.md,
"Request limits").

    target/release/jiuzhu serve --demo &           # note the clerk's account it prints
    scripts/login_flood.py --pid $! --user clerk --password ... [--spread] [--seconds 60]

--spread sends each flood connection from its own loopback address (127.0.x.y, Linux), so the
per-address login budget does not stop the flood and the hashing pool takes it all.
Standard library only.
"""

import argparse
import asyncio
import json
import random
import statistics
import time


async def request(reader, writer, method, path, body=None, cookie=None):
    head = f"{method} {path} HTTP/1.1\r\nHost: flood\r\n"
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    writer.write(head.encode() + b"\r\n" + data)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, headers = 0, {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    payload = await reader.readexactly(length) if length else b""
    return status, headers, payload


async def flood_one(args, index, deadline, counts):
    local = None
    if args.spread:
        local = (f"127.0.{1 + index // 250}.{1 + index % 250}", 0)
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection(
                args.host, args.port, local_addr=local
            )
        except OSError:
            counts["connect_error"] = counts.get("connect_error", 0) + 1
            await asyncio.sleep(0.05)
            continue
        try:
            while time.monotonic() < deadline:
                name = f"guess{random.randrange(10**9)}"
                status, _, _ = await request(
                    reader, writer, "POST", "/api/v1/login",
                    {"username": name, "password": "Wrong-Password-1"},
                )
                counts[status] = counts.get(status, 0) + 1
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            counts["closed"] = counts.get("closed", 0) + 1
        finally:
            writer.close()


async def clerk(args, deadline, latencies):
    reader, writer = await asyncio.open_connection(args.host, args.port)
    status, headers, body = await request(
        reader, writer, "POST", "/api/v1/login",
        {"username": args.user, "password": args.password},
    )
    assert status == 200, (status, body)
    cookie = headers["set-cookie"].split(";")[0]
    status, _, body = await request(
        reader, writer, "GET", "/api/v1/households?q=371002&limit=1", cookie=cookie
    )
    household = json.loads(body)["items"][0]["id"]
    await asyncio.sleep(1)
    while time.monotonic() < deadline:
        started = time.monotonic()
        status, _, _ = await request(
            reader, writer, "GET", f"/households/{household}", cookie=cookie
        )
        latencies.append((time.monotonic() - started, status))
        await asyncio.sleep(0.1)


async def rss(args, deadline, peak):
    while time.monotonic() < deadline + 2:
        with open(f"/proc/{args.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    peak["rss_kb"] = max(peak.get("rss_kb", 0), int(line.split()[1]))
                if line.startswith("VmHWM:"):
                    peak["hwm_kb"] = int(line.split()[1])
        await asyncio.sleep(0.2)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--pid", type=int, required=True, help="the server's process id")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--connections", type=int, default=200)
    p.add_argument("--spread", action="store_true")
    args = p.parse_args()
    deadline = time.monotonic() + 2 + args.seconds
    counts, latencies, peak = {}, [], {}
    tasks = [asyncio.create_task(clerk(args, deadline, latencies)),
             asyncio.create_task(rss(args, deadline, peak))]
    await asyncio.sleep(2)
    tasks += [asyncio.create_task(flood_one(args, i, deadline, counts))
              for i in range(args.connections)]
    await asyncio.gather(*tasks)
    ms = sorted(t * 1000 for t, _ in latencies)
    print(json.dumps({
        "seconds": args.seconds,
        "connections": args.connections,
        "spread": args.spread,
        "flood_responses": {str(k): v for k, v in sorted(counts.items(), key=str)},
        "page_requests": len(ms),
        "page_statuses": sorted({s for _, s in latencies}),
        "page_p50_ms": round(statistics.median(ms), 1),
        "page_p99_ms": round(ms[max(0, int(len(ms) * 0.99) - 1)], 1),
        "page_max_ms": round(ms[-1], 1),
        "rss_max_mb": round(peak.get("rss_kb", 0) / 1024, 1),
        "rss_peak_hwm_mb": round(peak.get("hwm_kb", 0) / 1024, 1),
    }, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
