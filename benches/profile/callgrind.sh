#!/usr/bin/env bash
# Instructions per unit of work in awsim, by function, with valgrind's callgrind: the release binary
# runs under callgrind twice, with a small and a large fixed workload from the stream runner, and the
# difference is divided by the extra units, so start-up and one-time costs drop out. Prints the top
# functions (self and inclusive) and the instructions by crate.
#
#   benches/profile/callgrind.sh converse        # per canned Converse request (c=64, 2 s vs 20 s)
#   benches/profile/callgrind.sh converse-stream # per canned ConverseStream request
#   benches/profile/callgrind.sh token [OP]      # per streamed token through --bedrock-backend
#   benches/profile/callgrind.sh request [OP]    # per streamed request (1 token) through the backend
#
# OP is converse-stream/eventstream (default), converse-stream/json, invoke-stream/eventstream or
# invoke-stream/json. AWSIM_ARGS adds flags to awsim's command line (AWSIM_ARGS="--invocation-log 0"
# counts without the invocation log). Needs valgrind and python3; build first: cargo build --release
# && cargo bench -p awsim-bench --bench stream --no-run. Output: /tmp/awsim-callgrind/.
set -euo pipefail
cd "$(dirname "$0")/../.."

what=${1:?"usage: $0 converse|converse-stream|token|request [OP]"}
op=${2:-converse-stream/eventstream}
out=/tmp/awsim-callgrind
mkdir -p "$out"
awsim=target/release/awsim
runner=$(ls -t target/release/deps/stream-* | grep -v '\.d$' | head -1)
[ -x "$awsim" ] && [ -x "$runner" ] || { echo "build first: cargo build --release && cargo bench -p awsim-bench --bench stream --no-run" >&2; exit 2; }

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run NAME AWSIM_ARGS -- RUNNER_ARGS: one awsim under callgrind, driven by the runner until it is done.
run() {
  local name=$1; shift
  local awsim_args=() runner_args=()
  while [ "$1" != "--" ]; do awsim_args+=("$1"); shift; done; shift
  runner_args=("$@")
  local p; p=$(port)
  local extra=(); read -ra extra <<<"${AWSIM_ARGS:-}"
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.out" "$awsim" --port "$p" --log-level warn "${extra[@]}" "${awsim_args[@]}" 2>"$out/$name.valgrind" &
  local pid=$!
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && break; sleep 0.1; done
  "$runner" --target "http://127.0.0.1:$p" --target-pid "$pid" --no-write "${runner_args[@]}" >"$out/$name.md" 2>"$out/$name.err"
  kill -TERM "$pid"; wait "$pid" || true
}

# The requests column of the runner's canned table.
served() { awk -F'|' '/^\| Converse/ {gsub(/[ ,]/, "", $4); print $4; exit}' "$out/$1.md"; }

case "$what" in
  converse|converse-stream)
    run small -- --sections canned --canned-ops "$what" --duration 2 --soak 0
    run large -- --sections canned --canned-ops "$what" --duration 20 --soak 0
    units=$(( $(served large) - $(served small) )); unit="$what request" ;;
  token|request)
    up=$(port)
    if [ "$what" = token ]; then small=(--tokens 1 --requests 40); large=(--tokens 101 --requests 40); units=$(( 41 * 100 ))
    else small=(--tokens 1 --requests 40); large=(--tokens 1 --requests 200); units=160; fi
    # One round: the units above count one warm-up request per run (each round has its own).
    common=(--sections ttft --concurrency 1 --rounds 1 --first-token-ms 5 --token-gap-ms 5 --streams-of "$op" --upstream-port "$up")
    run small --bedrock-backend "http://127.0.0.1:$up/v1" -- "${common[@]}" "${small[@]}"
    run large --bedrock-backend "http://127.0.0.1:$up/v1" -- "${common[@]}" "${large[@]}"
    unit="streamed $what ($op)" ;;
  *) echo "unknown workload '$what'" >&2; exit 2 ;;
esac

python3 - "$out/small.out" "$out/large.out" "$units" "$unit" <<'PY'
import collections, re, subprocess, sys

def crate_of(file, function):
    """Whose code it is: the crates.io crate or awsim file that holds it; Rust's standard library
    inlined into a function counts for that function's crate (std's own functions stay std)."""
    m = re.search(r"index\.crates\.io-[^/]+/([A-Za-z0-9_-]+?)-\d+\.\d+[^/]*/", file)
    if m:
        return m.group(1).replace("_", "-")
    if "/work/" in file or file.startswith(("src/", "frames/")):
        return "awsim (src/, frames/)"
    if file.startswith("/rustc/"):
        m = re.match(r"<?([a-z_0-9]+)::", function)
        owner = m.group(1).replace("_", "-") if m else "std"
        if owner in ("core", "alloc", "std"):
            return "std"
        return "awsim (src/, frames/)" if owner in ("awsim", "frames") else owner
    return "libc, kernel entry, other"

def functions(path, inclusive, by=None):
    """Cost per function name (inlined copies, listed once per source file, summed), or per
    `by(file)` of the source file that holds the instructions."""
    text = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}",
                           "--threshold=100", "--auto=no", path], capture_output=True, text=True).stdout
    lines = text.splitlines()
    total = next(int(re.match(r"\s*([\d,]+)", l).group(1).replace(",", "")) for l in lines if "PROGRAM TOTALS" in l)
    start = next(i for i, l in enumerate(lines) if "file:function" in l) + 2
    cost = collections.Counter()
    for l in lines[start:]:
        if l.startswith("-----"):
            break
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)$", l)
        if m:
            name = re.sub(r" \[[^\]]*\]$", "", m.group(2))
            file, _, function = name.partition(":") if ":" in name else ("", "", name)
            cost[by(file, function) if by else function] += int(m.group(1).replace(",", ""))
    return total, cost

small, large, units, unit = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ta, _ = functions(small, False)
tb, _ = functions(large, False)
print(f"{(tb - ta) / units:,.0f} instructions per {unit} ({units:,} units)\n")
for title, inclusive in [("self", False), ("inclusive (nested: shares overlap)", True)]:
    _, a = functions(small, inclusive)
    _, b = functions(large, inclusive)
    diff = sorted(((b[k] - a.get(k, 0), k) for k in b), reverse=True)
    print(f"top functions, {title}: instructions per unit")
    for cost, name in diff[:30]:
        print(f"{cost / units:10,.0f}  {name[:150]}")
    print()
_, a = functions(small, False, crate_of)
_, b = functions(large, False, crate_of)
print("by crate, self (inlined code counts where its source is): instructions per unit")
for cost, name in sorted(((b[k] - a.get(k, 0), k) for k in b), reverse=True)[:16]:
    print(f"{cost / units:10,.0f}  {name}")
PY
