#!/usr/bin/env python3
"""Small helpers for scripts/bench: JSON over loopback HTTP, /proc readings, wrk output parsing,
bulk registration and the result rows. Standard library only; every wait is bounded.

    tools.py free-port
    tools.py wait-http URL TIMEOUT_S START_NS        -> ms from START_NS until URL answers 200
    tools.py wait-line FILE TEXT TIMEOUT_S START_NS  -> ms from START_NS until FILE contains TEXT
    tools.py get URL [KEY] [DOTTED.PATH]             -> JSON (or one field of it)
    tools.py wrk-paths EMU_URL OUT [LIMIT]           -> getStateInstance paths for wrk, one a line
    tools.py import EMU_URL GF_URL KEY BATCH         -> registers every emulator instance; prints
                                                        "count seconds rate"
    tools.py metric-sum URL NAME                     -> sum of a Prometheus metric's samples
    tools.py cpu PID | rss PID                       -> CPU seconds (utime+stime) | VmRSS in MB
    tools.py rusage OUT -- CMD...                    -> runs CMD, writes "user sys" of it to OUT
    tools.py wrk-parse FILE                          -> "rps requests p99_ms non2xx"
    tools.py row RESULTS SCEN NAME VALUE UNIT REF_NAME REF_VALUE OP TARGET [NOTE]
    tools.py report RESULTS MACHINE_JSON DOC         -> prints the table, rewrites DOC's table
"""
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def http(url, key=None, data=None, method=None, timeout=30):
    headers = {}
    if key:
        headers["Authorization"] = "Bearer " + key
    if data is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout_s, start_ns):
    deadline = time.monotonic() + float(timeout_s)
    while time.monotonic() < deadline:
        try:
            status, _ = http(url, timeout=1)
            if status == 200:
                return (time.time_ns() - int(start_ns)) / 1e6
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.002)
    raise SystemExit(f"timeout waiting for {url}")


def wait_line(path, text, timeout_s, start_ns):
    deadline = time.monotonic() + float(timeout_s)
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return (time.time_ns() - int(start_ns)) / 1e6
        except FileNotFoundError:
            pass
        time.sleep(0.001)
    raise SystemExit(f"timeout waiting for '{text}' in {path}")


def dig(obj, path):
    for part in path.split(".") if path else []:
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def emulator_instances(emu_url):
    _, body = http(emu_url + "/_emulator/instances", timeout=120)
    return json.loads(body)["instances"]


def import_fleet(emu_url, gf_url, key, batch):
    items = [{"id": i["idInstance"], "token": i["apiTokenInstance"], "apiUrl": emu_url,
              "name": f"bench-{n}", "tags": ["bench"]}
             for n, i in enumerate(emulator_instances(emu_url))]
    batch = int(batch)
    # Encoded before the clock starts: the rate is greenfleet's, not this script's json.dumps.
    bodies = [json.dumps(items[off:off + batch]).encode() for off in range(0, len(items), batch)]
    start = time.monotonic()
    for off, body in zip(range(0, len(items), batch), bodies):
        status, _ = http(gf_url + "/api/v1/instances", key, body, "POST", timeout=300)
        if status != 201:
            raise SystemExit(f"import batch at {off}: HTTP {status}")
    seconds = time.monotonic() - start
    return f"{len(items)} {seconds:.3f} {len(items) / seconds:.0f}"


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime, stime are fields 14, 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def proc_threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def rusage(out, cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    rc = subprocess.call(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        f.write(f"{after.ru_utime - before.ru_utime:.3f} {after.ru_stime - before.ru_stime:.3f}\n")
    return rc


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def wrk_parse(path):
    text = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    requests = int(re.search(r"(\d+) requests in", text).group(1))
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return (f"{rps:.1f} {requests} {to_ms(p99.group(1)) if p99 else float('nan'):.3f} "
            f"{int(non2xx.group(1)) if non2xx else 0}")


# ---- result rows ---------------------------------------------------------------------------

def row(results, scen, name, value, unit, ref_name, ref_value, op, target, note=""):
    """A ratio row when REF_VALUE is a number (ratio = value/ref, compared with TARGET); an
    absolute row when REF_VALUE is '-' (value compared with TARGET directly)."""
    value = float(value)
    ratio = None
    if ref_value != "-":
        ref = float(ref_value)
        ratio = value / ref if ref else float("nan")
        checked = ratio
    else:
        checked = value
    if op == "info":  # a figure to report, no target
        ok, target_text = True, "—"
    else:
        target = float(target)
        ok = checked >= target if op == "ge" else checked <= target
        if checked != checked:  # NaN: nothing measured
            ok = False
        target_text = (("≥ " if op == "ge" else "≤ ") + f"{target:g}"
                       + ("×" if ratio is not None else f" {unit}"))
    rec = {"scenario": scen, "metric": name, "value": value, "unit": unit, "ref_name": ref_name,
           "ref": None if ref_value == "-" else float(ref_value), "ratio": ratio,
           "target": target_text, "pass": ok, "info": op == "info", "note": note}
    with open(results, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(f"  {name}: {value:.6g} {unit}" + (f" / {rec['ref']:.6g} = {ratio:.3f}×" if ratio is not None else "")
          + f"  target {rec['target']}  {'info' if op == 'info' else 'PASS' if ok else 'MISS'}",
          flush=True)


def fmt_num(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def table(rows):
    head = ["scenario", "metric", "value", "reference", "ratio", "target", "result"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ref = "—" if r["ref"] is None else f"{r['ref_name']} {fmt_num(r['ref'])}"
        if r["ref"] is None and r["ref_name"] not in ("", "-"):
            ref = r["ref_name"]
        out.append("| " + " | ".join([
            r["scenario"], r["metric"], f"{fmt_num(r['value'])} {r['unit']}", ref,
            "—" if r["ratio"] is None else f"{r['ratio']:.2f}×" if r["ratio"] >= 0.1
            else f"{r['ratio']:.2g}×", r["target"],
            ("info" if r.get("info") else "pass" if r["pass"] else "**MISS**")
            + (f" ({r['note']})" if r["note"] else "")]) + " |")
    return "\n".join(out)


def report(results, machine_json, doc):
    rows = [json.loads(l) for l in open(results) if l.strip()]
    machine = json.load(open(machine_json))
    tbl = table(rows)
    print(tbl)
    misses = sum(1 for r in rows if not r["pass"])
    print(f"\n{len(rows)} rows, {len(rows) - misses} pass, {misses} miss")
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    block = (f"{begin}\nMeasured {machine['date']} on {machine['cpu']} — {machine['cores']} cores, "
             f"{machine['memory_gb']:.1f} GB memory, {machine['kernel']}; load average at start "
             f"{machine['load']} (shared machine: treat absolute numbers as noisy, ratios as the "
             f"figures). Whole run: {machine['elapsed_s']:.0f} s. Commit `{machine['commit']}`.\n\n"
             f"{tbl}\n\n{len(rows)} rows: {len(rows) - misses} pass, {misses} miss.\n{end}")
    text = open(doc).read() if os.path.exists(doc) else f"# Benchmarks\n\n{begin}\n{end}\n"
    if begin in text and end in text:
        a, b = text.index(begin), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        text += "\n" + block + "\n"
    with open(doc, "w") as f:
        f.write(text)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "free-port":
        print(free_port())
    elif cmd == "wait-http":
        print(f"{wait_http(*args):.1f}")
    elif cmd == "wait-line":
        print(f"{wait_line(*args):.1f}")
    elif cmd == "get":
        url, key, path = args[0], (args[1] if len(args) > 1 else ""), (args[2] if len(args) > 2 else "")
        _, body = http(url, key or None, timeout=60)
        v = dig(json.loads(body), path)
        print(json.dumps(v) if isinstance(v, (dict, list)) else v)
    elif cmd == "metric-sum":  # URL NAME: sum of every sample of a Prometheus metric
        _, body = http(args[0], timeout=60)
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(args[1] + "{") or line.startswith(args[1] + " "):
                total += float(line.rsplit(" ", 1)[1])
        print(f"{total:.0f}")
    elif cmd == "put":
        url, body = args[0], args[1]
        http(url, None, body.encode(), "PUT")
    elif cmd == "wrk-paths":
        limit = int(args[2]) if len(args) > 2 else None
        with open(args[1], "w") as f:
            for i in emulator_instances(args[0])[:limit]:
                f.write(f"/waInstance{i['idInstance']}/getStateInstance/{i['apiTokenInstance']}\n")
    elif cmd == "emulator-ids":
        with open(args[1], "w") as f:
            for i in emulator_instances(args[0]):
                f.write(f"{i['idInstance']} {i['apiTokenInstance']}\n")
    elif cmd == "import":
        print(import_fleet(*args))
    elif cmd == "cpu":
        print(f"{proc_cpu(args[0]):.3f}")
    elif cmd == "rss":
        print(f"{proc_rss(args[0]):.1f}")
    elif cmd == "threads":
        print(proc_threads(args[0]))
    elif cmd == "rusage":
        sep = args.index("--")
        return rusage(args[0], args[sep + 1:])
    elif cmd == "wrk-parse":
        print(wrk_parse(args[0]))
    elif cmd == "row":
        row(*args)
    elif cmd == "report":
        report(*args)
    else:
        raise SystemExit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
