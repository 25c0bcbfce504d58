#!/usr/bin/env bash
# The fleet playbook (deploy/ansible/proclab.yml) against two hosts that are separate systems to
# Ansible: this machine over the local connection ("controller"), and a network namespace with its
# own hostname and its own sshd on 10.213.N.2, started under `taskset -c 0` so that everything run
# there may use CPU 0 only ("onecpu": a one-CPU machine). Then what came home is compared.
#
#   playbook_test.sh BUILD_DIR SOURCE_DIR
#
# Checks: both report folders come home; a second play changes nothing; all at once, the two names
# (one machine) never run two suites together; `proclab compare` on
# results/* and on results/ shows both machines with the one-CPU run's differing fact, metric and
# verdict; a host that holds the lock, an unreachable host, a missing .deb and inventories with no
# hosts each give one line saying why. Exit 77 (skipped) without root, a second CPU, or the tools.
set -euo pipefail
build=$(realpath "$1")
src=$(realpath "$2")
SECONDS=0
step() { echo "== [${SECONDS} s] $*"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (network namespaces, sshd, installing the .deb)"
for tool in ansible-playbook /usr/sbin/sshd ssh ssh-keygen ip unshare taskset cpack dpkg-shlibdeps file; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done
[ "$(nproc)" -ge 2 ] || skip "one CPU here: the one-CPU host would not differ"
ip netns list >/dev/null 2>&1 || skip "network namespaces are not available here"

work=$build/fleet-test
rm -rf "$work"
mkdir -p "$work"
subnet=$(( $$ % 200 + 20 ))
ns=proclab-fleet-$$
veth_host=pfh$$
veth_ns=pfn$$
address=10.213.$subnet.2
was_installed=$(dpkg-query -W -f='${Status}' proclab 2>/dev/null | grep -c "install ok installed" || true)
sshd_pid=

cleanup() {
  [ -n "$sshd_pid" ] && kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null || true
  pkill -f -- "$work/ssh-control" 2>/dev/null || true
  # sshd's per-connection children, and anything else still running in the namespace
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip link del "$veth_host" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  # The playbook installed the package on this machine; take it away unless it was here before.
  [ "$was_installed" = 1 ] || dpkg --purge proclab >/dev/null 2>&1 || true
}
trap cleanup EXIT

export ANSIBLE_HOME=$work/ansible-home ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_LOCALHOST_WARNING=0
export ANSIBLE_INVENTORY_UNPARSED_WARNING=1 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
# Ansible's SSH masters (ControlPersist) keep their sockets here, so the clean-up can end them.
export ANSIBLE_SSH_CONTROL_PATH_DIR=$work/ssh-control

step "the .deb (cpack -G DEB)"
(cd "$build" && cpack -G DEB -B "$work/deb" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack -G DEB failed"; }
deb=$(ls "$work"/deb/proclab_*.deb)

step "the second host: namespace $ns, sshd on $address, CPU 0 only"
ip netns add "$ns"
ip link add "$veth_host" type veth peer name "$veth_ns"
ip link set "$veth_ns" netns "$ns"
ip addr add "10.213.$subnet.1/24" dev "$veth_host"
ip link set "$veth_host" up
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip addr add "$address/24" dev "$veth_ns"
ip netns exec "$ns" ip link set "$veth_ns" up
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/id"
cat >"$work/sshd_config" <<EOF
ListenAddress $address
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/id.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
EOF
mkdir -p /run/sshd
ip netns exec "$ns" unshare --uts sh -c "hostname onecpu && exec taskset -c 0 /usr/sbin/sshd -D -e -f '$work/sshd_config'" </dev/null >"$work/sshd.log" 2>&1 &
sshd_pid=$!
ssh_options=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -i "$work/id")
for _ in $(seq 50); do
  ssh "${ssh_options[@]}" "root@$address" true 2>/dev/null && break
  sleep 0.2
done
[ "$(ssh "${ssh_options[@]}" "root@$address" 'hostname; taskset -pc $$ | sed "s/.*: //"' 2>/dev/null | tr '\n' ' ')" = "onecpu 0 " ] ||
  { cat "$work/sshd.log"; fail "the namespace's sshd does not answer as onecpu on CPU 0"; }

cat >"$work/hosts.ini" <<EOF
[fleet]
controller ansible_connection=local
onecpu ansible_host=$address ansible_user=root ansible_ssh_private_key_file=$work/id ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
EOF
playbook() { ansible-playbook "$src/deploy/ansible/proclab.yml" "$@"; }
cd "$work"  # results/ lands here, as in the README

step "the play: both hosts, one at a time"
start_ms=$(date +%s%3N)
playbook -i hosts.ini -e "proclab_deb=$deb" -e "proclab_args='--quick --no-crosscheck'" >play1.log 2>&1 || { cat play1.log; fail "the playbook failed"; }
wall_ms=$(( $(date +%s%3N) - start_ms ))
wall=$(( wall_ms / 1000 )).$(( wall_ms % 1000 / 100 ))
for host in controller onecpu; do
  [ -f "results/$host/suite.json" ] && [ -f "results/$host/report.md" ] || { cat play1.log; fail "results/$host/ did not come home"; }
done
[ -z "$(ls results/*.failed 2>/dev/null)" ] || fail "a failure note was left: $(cat results/*.failed)"
echo "both report folders came home in ${wall} s"

step "a second play changes nothing"
playbook -i hosts.ini -e "proclab_deb=$deb" >play2.log 2>&1 || { cat play2.log; fail "the second play failed"; }
grep -E "^(controller|onecpu) +:" play2.log | grep -v "changed=0" && fail "the second play changed something" || true
[ "$(grep -cE '^(controller|onecpu) +: .*changed=0' play2.log)" = 2 ] || { cat play2.log; fail "no recap for both hosts"; }

step "proclab compare results/*"
proclab=$build/bin/proclab
claim() {  # claim HOST ID FIELD: a claim's verdict or evidence in what HOST brought home
  python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(next(c[sys.argv[3]] for c in j["claims"] if c["id"] == sys.argv[2]))' \
    "results/$1/suite.json" "$2" "$3"
}
"$proclab" compare results/* >pair.txt || { cat pair.txt; fail "compare results/* failed"; }
grep -E "CPUs allowed \(affinity\) +0-.* +0 \(1 CPU\) +differs" pair.txt >/dev/null || { cat pair.txt; fail "the CPUs fact does not differ"; }
# On one CPU, T2 (threads run in parallel) cannot be measured, whatever the load: that is certain.
[ "$(claim onecpu T2 verdict)" = not-measured ] && claim onecpu T2 evidence | grep -q "one CPU" ||
  fail "onecpu's T2 is $(claim onecpu T2 verdict) ($(claim onecpu T2 evidence)), not not-measured for one CPU"
# Whether the two-CPU host's T2 is confirmed, and its figures differ, depends on this machine being
# quiet while it ran: a busy machine makes the controller a one-CPU host too (its T2 then says so),
# and the flags are not checked.
quiet=no
if [ "$(claim controller T2 verdict)" = confirmed ]; then
  quiet=yes
  grep -E "^ +T2 +confirmed +not-measured" pair.txt >/dev/null || { cat pair.txt; fail "T2 does not differ"; }
  grep -A1 -E "^Metrics, B against A$" pair.txt | grep -E "^  [0-9]+ shared, .*, [1-9][0-9]* beyond noise" >/dev/null ||
    { cat pair.txt; fail "no metric beyond noise"; }
else
  echo "note: controller's T2 is $(claim controller T2 verdict) ($(claim controller T2 evidence)): the machine was busy, the flags are not checked"
fi

step "proclab compare results (the fleet view)"
"$proclab" compare results --json fleet.json --html fleet.html >fleet.txt || { cat fleet.txt; fail "compare results failed"; }
grep -q "a fleet of 2 machines" fleet.txt || { cat fleet.txt; fail "not the fleet view"; }
QUIET=$quiet python3 - <<'EOF' || { cat fleet.txt; fail "the fleet view does not show onecpu as it should"; }
import json, os
v = json.load(open("fleet.json"))
names = [m["name"] for m in v["machines"]]
assert names == ["controller", "onecpu"], names
cpus = next(f for f in v["facts"] if f["label"].startswith("CPUs allowed"))
assert cpus["differs"] and cpus["values"][1] == "0 (1 CPU)", cpus
t2 = next(r for r in v["verdicts"] if r["id"] == "T2")
assert t2["verdicts"][1] == "not-measured", t2
if os.environ["QUIET"] == "yes":
    assert t2["differs"], t2
    assert v["machines"][1]["flagged_metrics"] >= 1, v["machines"]
EOF
grep -q "<html" fleet.html || fail "no fleet.html"

step "a host whose lock is held is refused, with why"
exec 9>/var/tmp/proclab-fleet.lock  # this shell holds the host's lock, as a running suite would
flock 9
playbook -i hosts.ini --limit controller -e "proclab_deb=$deb" -e proclab_rerun=true -e "proclab_args='--quick --no-crosscheck'" >play3.log 2>&1 &&
  { cat play3.log; fail "the playbook passed with the host's lock held"; }
grep -q "another proclab suite holds this host" results/controller.failed || { cat play3.log; fail "no reason for the held lock"; }
[ -f results/controller/suite.json ] || fail "the earlier results were lost"
flock -u 9
exec 9>&-
rm -f results/controller.failed

step "all at once (proclab_serial=100%): the two names are one machine, so one suite runs and the other is refused"
playbook -i hosts.ini -e "proclab_deb=$deb" -e proclab_results=together -e proclab_serial=100% -e "proclab_args='--quick --no-crosscheck'" \
  >play7.log 2>&1 && { cat play7.log; fail "both suites ran at once on one machine"; }
[ "$(ls together/*/suite.json 2>/dev/null | wc -l)" = 1 ] && [ "$(ls together/*.failed 2>/dev/null | wc -l)" = 1 ] ||
  { cat play7.log; fail "not one host home and one refused"; }
grep -q "another proclab suite holds this host" together/*.failed || { cat play7.log; fail "the refused host does not say why"; }

step "an unreachable host: one line, and the others still come home"
cat >ghost.ini <<EOF
controller ansible_connection=local
ghost ansible_host=10.213.$subnet.3 ansible_user=root ansible_ssh_private_key_file=$work/id ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3'
EOF
playbook -i ghost.ini -e "proclab_deb=$deb" >play4.log 2>&1 && { cat play4.log; fail "the playbook passed with a host unreachable"; }
grep -q "^unreachable: " results/ghost.failed || { cat play4.log; fail "no line says ghost is unreachable"; }
grep -q '1 host(s) failed: ghost: unreachable' play4.log || { cat play4.log; fail "the summary does not name ghost"; }
[ -f results/controller/suite.json ] || fail "controller's results were lost"
"$proclab" compare results/* >after.txt 2>&1 || { cat after.txt; fail "compare results/* fails once a host has a failure note"; }
grep -q "ghost: no run, the fleet playbook says: unreachable" after.txt || { cat after.txt; fail "compare does not name the failed host"; }

step "a missing .deb and inventories with no hosts: one line each"
playbook -i hosts.ini -e proclab_deb=/nonexistent.deb >play5.log 2>&1 && fail "passed without a .deb"
grep -q "proclab_deb must name the .deb on this controller" play5.log || { cat play5.log; fail "no line for the missing .deb"; }
printf '[fleet\nbroken = = =\n' >broken.ini
for inventory in /nonexistent.ini broken.ini; do
  playbook -i "$inventory" -e "proclab_deb=$deb" >play6.log 2>&1 && fail "passed with inventory $inventory"
  grep -q "the inventory holds no hosts" play6.log || { cat play6.log; fail "no line for inventory $inventory"; }
done

echo "PASS: the playbook brought home 2 report folders in ${wall} s; compare shows onecpu's one CPU (flags checked: $quiet)"
