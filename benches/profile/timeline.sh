#!/usr/bin/env bash
# Where a streamed token's time goes in the process in the middle, from the kernel's own clock:
# perf records the scheduler and system-call tracepoints of awsim and of the tokio relay (the floor
# that only copies bytes) while the stream runner streams tokens through each at c=1, then every
# token's pass through the process is cut at its system calls:
#
#   woken     epoll_wait returns (the token arrived; the thread is on a CPU again)
#   → read    the runtime gets to the socket read     (tokio: waking the task that owns the socket)
#   read      the read system call
#   → write   from the read's return to the write    (awsim: HTTP, SSE, JSON, the frame; relay: none)
#   write     the write system call (loopback TCP: the receiver's side of the stack runs here too)
#
#   benches/profile/timeline.sh [OP] [REQUESTS]   # OP as in callgrind.sh; default 60 requests
#
# Needs perf with tracepoint access (root, or kernel.perf_event_paranoid ≤ -1) and tracefs mounted;
# build first: cargo build --release && cargo bench -p awsim-bench --bench stream --no-run.
# Output: /tmp/awsim-timeline/.
set -euo pipefail
cd "$(dirname "$0")/../.."

op=${1:-converse-stream/eventstream}
requests=${2:-60}
out=/tmp/awsim-timeline
mkdir -p "$out"
rm -f "$out"/*.data
runner=$(ls -t target/release/deps/stream-* | grep -v '\.d$' | head -1)
[ -x target/release/awsim ] && [ -x "$runner" ] || { echo "build first: cargo build --release && cargo bench -p awsim-bench --bench stream --no-run" >&2; exit 2; }
command -v perf >/dev/null || { echo "needs perf" >&2; exit 2; }

# record NAME PATTERN: waits for a process whose command line matches, traces it until it exits.
record() {
  local name=$1 pattern=$2 pid=""
  for _ in $(seq 1 3000); do pid=$(pgrep -f "$pattern" | head -1 || true); [ -n "$pid" ] && break; sleep 0.05; done
  [ -n "$pid" ] || { echo "no process matching '$pattern'" >&2; return 1; }
  perf record -q -o "$out/$name.data" -e sched:sched_waking,raw_syscalls:sys_enter,raw_syscalls:sys_exit -p "$pid" >/dev/null 2>&1 || true
}

record relay "floor-child async-relay" &
rec_relay=$!
record awsim "release/awsim --host 127.0.0.1 --port 0" &
rec_awsim=$!
# One round: perf follows the first relay process, and every round starts relays of its own.
"$runner" --sections ttft --concurrency 1 --rounds 1 --requests "$requests" --streams-of "$op" --no-write >"$out/runner.md" 2>"$out/runner.err"
wait "$rec_relay" "$rec_awsim" || true

for name in relay awsim; do
  perf script -i "$out/$name.data" -F comm,tid,time,event,trace 2>/dev/null >"$out/$name.txt"
done

python3 - "$out/relay.txt" "$out/awsim.txt" <<'PY'
import re, sys

READS, WRITES = {"0", "45"}, {"1", "20", "44"}  # read, recvfrom; write, writev, sendto
line = re.compile(r"^\s*(\S+)\s+(\d+)\s+([\d.]+):\s+(\S+):\s+(.*)$")

def cycles(path):
    """Token passes: woken → read → write, where the write wakes the client (not the upstream)."""
    out, cur = [], {}
    for l in open(path):
        m = line.match(l)
        if not m:
            continue
        tid, t, event, rest = m.group(2), float(m.group(3)) * 1e6, m.group(4), m.group(5)
        c = cur.setdefault(tid, {})
        nr = rest.split()[1] if rest.startswith("NR ") else None
        if event == "raw_syscalls:sys_exit" and nr == "232":
            cur[tid] = {"woken": t}
        elif "woken" not in c:
            continue
        elif event == "raw_syscalls:sys_enter" and nr in READS and "r0" not in c:
            c["r0"] = t
        elif event == "raw_syscalls:sys_exit" and nr in READS and "r1" not in c:
            c["r1"], c["bytes"] = t, int(rest.split("=")[1])
        elif event == "raw_syscalls:sys_enter" and nr in WRITES and "r1" in c and "w0" not in c:
            c["w0"] = t
        elif event == "sched:sched_waking" and "w0" in c and "wakes" not in c:
            c["wakes"] = rest.split()[0]
        elif event == "raw_syscalls:sys_exit" and nr in WRITES and "w0" in c:
            # Tokens are ~190-byte chunks; the request, head and end of an answer are bigger.
            if "bench-upstream" not in c.get("wakes", "") and 100 < c["bytes"] < 300:
                c["w1"] = t
                out.append(c)
            cur[tid] = {}
    return out

def p50(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")

legs = [("woken → read", "woken", "r0"), ("read", "r0", "r1"), ("→ write", "r1", "w0"),
        ("write", "w0", "w1"), ("woken → written", "woken", "w1")]
rows = {name: cycles(path) for name, path in zip(["tokio relay", "awsim"], sys.argv[1:])}
print("Per token, p50 µs (tracepoint clock; the tracing itself slows every system call a little, in both processes alike):\n")
print("| process | tokens | " + " | ".join(l[0] for l in legs) + " |")
print("|---|---|" + "---|" * len(legs))
for name, cs in rows.items():
    print(f"| {name} | {len(cs)} | " + " | ".join(f"{p50([c[b] - c[a] for c in cs]):.0f}" for _, a, b in legs) + " |")
PY
echo
echo "The runner's tables (these rows under perf, so slower than unobserved): $out/runner.md"
