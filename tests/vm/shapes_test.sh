#!/usr/bin/env bash
# The VM lab, for real: proclab in QEMU guests of the shapes its users have, each booted from
# Debian's own kernel by deploy/vm/proclab-vm, and what each run says about its machine checked.
#   (a) 4 CPUs as 2 cores x 2 SMT threads: the environment counts 2 threads per core;
#   (b) 8 CPUs in 2 sockets and 2 NUMA nodes: the environment counts both, and core_to_core groups
#       the pairs by node and puts each pair's line on its first CPU's node;
#   (c) Yama ptrace_scope 1 and 2: the same user's prober refused the memory, root allowed, P3
#       nuanced; ptrace_scope 3: the kernel refuses even root's reads, and P3 says so (confirmed, no
#       reader with ptrace rights), and the matrix shows the root prober refused;
#   (d) cgroup v2 with its controllers delegated: isolation_matrix's runaways in cgroups of their
#       own, each checked by its controller's own count: the memory one killed inside its cgroup
#       (memory.events oom_kill), the fork loop refused by pids.max (pids.events max), the CPU hog
#       throttled by cpu.max (cpu.stat nr_throttled).
# Every guest exits 0, its JSON holds all 13 claims, none refuted, each not-measured with its
# reason, and its environment says the machine was emulated. Timings in a guest are emulated and
# are never judged here.
#
# Usage: shapes_test.sh BUILD_DIR   (exits 77, skipped, where the lab cannot run: not x86_64, or
# qemu-system-x86 / busybox-static missing and not root to install them)
set -euo pipefail
build=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)
lab="$repo/deploy/vm/proclab-vm"
[[ "$(uname -m)" == x86_64 ]] || { echo "skipped: the lab boots x86_64 guests"; exit 77; }
install=()
if [[ $(id -u) == 0 ]]; then install=(--install)
elif ! command -v qemu-system-x86_64 >/dev/null || [[ ! -x /bin/busybox ]]; then
    echo "skipped: qemu-system-x86 and busybox-static are missing, and only root installs them"; exit 77
fi
work=$(mktemp -d /tmp/proclab-vm-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# check JSON EXPECTED_PYTHON_CONDITIONS...: the run's shared checks, then the shape's own.
check() {
    /usr/bin/python3 - "$@" <<'PY'
import json, re, sys
path, extra = sys.argv[1], sys.argv[2:]
j = json.load(open(path))
env = {k: v.get("value") for k, v in j["environment"].items()}
claims = {c["id"]: c for c in j["claims"]}
problems = []
if len(claims) != 13: problems.append(f"{len(claims)} claims, not 13")
for c in claims.values():
    if c["verdict"] == "refuted": problems.append(f"{c['id']} refuted: {c.get('evidence')}")
    if c["verdict"] == "not-measured" and not c.get("evidence"): problems.append(f"{c['id']} not-measured without a reason")
if not (env.get("emulated") or "").startswith("yes"): problems.append(f"emulated: {env.get('emulated')}")
# The guest runs in the host's tree: a container marker there marks the tree, not the guest.
if (env.get("container") or "").startswith("yes"): problems.append(f"container: {env.get('container')}")
for d in j["demos"]:
    if d["status"] != "ok": problems.append(f"{d['name']}: {d['status']} {d.get('detail')}")
demos = {d["name"]: d for d in j["demos"]}
def cell(demo, row, column):  # a cell of the demo's first table with that row and column, by their labels
    for t in demos[demo]["result"]["tables"]:
        labels = [c["label"] for c in t["columns"]]
        rows = [r for r in t["rows"] if r[0] == row]
        if column in labels and rows:
            return rows[0][labels.index(column)]
    raise KeyError(f"{demo}: no cell ({row}, {column})")
for condition in extra:
    if not eval(condition, {"env": env, "claims": claims, "cell": cell, "demos": demos, "re": re}):
        problems.append("not so: " + condition)
for p in problems: print("  " + p)
sys.exit(1 if problems else 0)
PY
}

shape() {  # NAME LAB_OPTIONS... -- PROCLAB_ARGS...
    local name=$1; shift
    local start=$SECONDS
    "$lab" "${install[@]}" --build "$build" --out "$work/$name" --timeout 300 "$@" > "$work/$name.log" 2>&1 ||
        { rc=$?; tail -n 30 "$work/$name.log"; fail "shape $name: the lab exited $rc"; }
    echo "shape $name: the guest ran in $((SECONDS - start)) s"
}

# The two shapes with more CPUs than a 2-CPU host: multi-threaded TCG, so that core_to_core's partners
# run at once (one host thread taking the guest CPUs in turn makes every hand-off wait for a turn).
# Neither runs address_space, whose unmap beside running siblings wedges such guests (docs/vm-lab.md).
shape smt --cpus 4 --threads-per-core 2 --tcg multi -- run -q --json run.json process_isolation fork_semantics thread_memory time_slicing
check "$work/smt/run.json" \
    "env['online_cpus'] == '4'" \
    "env['topology'].startswith('1 socket, 2 cores, 2 threads per core')" \
    "any('logical CPUs: 2 threads per core on 2 cores (SMT)' in n for n in demos['time_slicing']['result']['notes'])" \
    "claims['T6']['verdict'] == 'confirmed'" || fail "shape smt (4 CPUs, 2 threads per core)"

shape numa --cpus 8 --numa 2 --memory 2048 --tcg multi -- run -q --json run.json fork_semantics thread_local_storage core_to_core
# core_to_core: every pair's line on its first CPU's node, as move_pages reads it, across both nodes.
check "$work/numa/run.json" \
    "env['online_cpus'] == '8'" \
    "env['topology'].startswith('2 sockets, 8 cores, 1 thread per core, 2 NUMA nodes')" \
    "cell('core_to_core', 'other NUMA node', 'pairs') > 0" \
    "re.search(r'put (\\d+) of \\1 lines on that CPU', demos['core_to_core']['result']['tables'][1]['note'])" \
    "'(move_pages; nodes 0, 1)' in demos['core_to_core']['result']['tables'][1]['note']" \
    || fail "shape numa (8 CPUs, 2 nodes)"

# (c) Yama ptrace_scope 1 and 2: the same user's prober (the target's sibling, not its ancestor)
# is refused the target's memory, root still reads it, and P1 no longer lists ptrace among what the
# same user may do. The words follow what the kernel allowed.
for scope in 1 2; do
    shape "yama$scope" --cpus 2 --sysctl "kernel.yama.ptrace_scope=$scope" -- run -q --json run.json isolation_matrix
    check "$work/yama$scope/run.json" \
        "env['yama_ptrace_scope'] == '$scope'" \
        "cell('isolation_matrix', 'process_vm_readv', 'same_user') == 'EPERM'" \
        "cell('isolation_matrix', 'ptrace(PTRACE_ATTACH) + PEEKDATA', 'same_user') == 'EPERM'" \
        "cell('isolation_matrix', 'process_vm_readv', 'root_prober') == 'allowed'" \
        "claims['P3']['verdict'] == 'nuanced'" \
        "'root_prober' in claims['P3']['evidence']" \
        "'PTRACE_ATTACH' not in claims['P1']['evidence'].split('same user allowed')[-1]" \
        || fail "shape yama$scope (ptrace_scope $scope)"
done

shape yama3 --cpus 2 --sysctl kernel.yama.ptrace_scope=3 -- run -q --json run.json process_isolation isolation_matrix
check "$work/yama3/run.json" \
    "env['yama_ptrace_scope'] == '3'" \
    "claims['P3']['verdict'] == 'confirmed'" \
    "'no reader here held ptrace rights' in claims['P3']['evidence']" \
    "cell('isolation_matrix', 'process_vm_readv', 'root_prober') == 'EPERM'" \
    "cell('isolation_matrix', 'ptrace(PTRACE_ATTACH) + PEEKDATA', 'root_prober') == 'EPERM'" \
    || fail "shape yama3 (ptrace_scope 3)"
# (d) cgroup v2 with cpu, memory and pids delegated (the lab does that in every guest): the runaways
# in cgroups of their own are measured, the memory one ended by the OOM killer inside its cgroup as
# memory.events counts it, the fork loop refused by pids.max as pids.events counts it (a refusal
# it did not count leaves the row not measured), the CPU hog held by cpu.max with cpu.stat's count.
shape cgroup2 --cpus 2 -- run -q --json run.json isolation_matrix
check "$work/cgroup2/run.json" \
    "cell('isolation_matrix', 'memory in its own cgroup: mmap and touch 8 MiB at a time', 'ended by') == 'its limit'" \
    "'memory.events oom_kill 1' in cell('isolation_matrix', 'memory in its own cgroup: mmap and touch 8 MiB at a time', 'what ended it')" \
    "cell('isolation_matrix', 'processes in their own cgroup: a fork loop, each child waiting', 'ended by') == 'its limit'" \
    "'EAGAIN' in cell('isolation_matrix', 'processes in their own cgroup: a fork loop, each child waiting', 'what ended it')" \
    "'pids.events max 0' not in cell('isolation_matrix', 'processes in their own cgroup: a fork loop, each child waiting', 'what ended it')" \
    "cell('isolation_matrix', 'CPU in its own cgroup: 2 threads spinning', 'mechanism').startswith('cgroup v2 cpu.max')" \
    "'cpu.stat nr_throttled' in cell('isolation_matrix', 'CPU in its own cgroup: 2 threads spinning', 'what ended it')" \
    "cell('isolation_matrix', 'CPU in its own cgroup: 2 threads spinning', \"siblings' loss\") is not None" \
    || fail "shape cgroup2 (cgroup v2 controllers delegated)"
# One CPU, one host thread (--tcg single): with no --timeout of its own, proclab gets the lab's
# per-demo timeout for single-threaded TCG (120 s per guest CPU, 300 s at least), the environment
# names the shape and the mode, and P4's words say one CPU, not more.
shape one --cpus 1 --tcg single -- run -q --json run.json fork_semantics time_slicing
grep -q "proclab run gets --timeout 300 per demo" "$work/one.log" || { cat "$work/one.log"; fail "shape one: no per-demo --timeout 300"; }
check "$work/one/run.json" \
    "'1 CPU (1 NUMA node, 1 thread per core; single-threaded TCG)' in env['emulated']" \
    "'at most 1 at once on 1 CPU' in claims['P4']['evidence']" \
    "claims['T6']['verdict'] == 'confirmed'" \
    || fail "shape one (1 CPU, single-threaded TCG)"
# A guest as a machine of the fleet: the fleet view takes the SMT and NUMA guests' runs beside a
# recorded real machine, and never flags or pools a guest's timings.
mkdir -p "$work/fleet"
cp "$work/smt/run.json" "$work/fleet/guest-smt.json"
cp "$work/numa/run.json" "$work/fleet/guest-numa.json"
cp "$repo/tests/data/fleet/vm-a.json" "$work/fleet/real.json"
"$build/bin/proclab" compare "$work/fleet" > "$work/fleet.txt" 2>&1 || { cat "$work/fleet.txt"; fail "the fleet view refused the guests"; }
for guest in guest-smt guest-numa; do
    tr -s ' \n' ' ' < "$work/fleet.txt" | grep -q "$guest ([^)]*) ran on an emulated machine .* its timings are never flagged" ||
        { cat "$work/fleet.txt"; fail "the fleet view did not mark $guest as emulated"; }
done
echo "the fleet view took both guests as machines, their timings never flagged"
echo "every shape ran, none refuted a claim"
