/**
 * Files the lab puts into hosts or runs itself. Kept as strings so the module works unchanged
 * when it is bundled (no asset paths to resolve at run time).
 */

/**
 * systemd's fstab generator ignores device lines inside a container ("Running in a container,
 * ignoring fstab device entry for …"), so after a reboot a VM would have /dev/vdb mounted and
 * the lab host would not (and would drop to emergency mode for the bind mounts that depend on
 * it). This generator emits the units a VM gets for those lines.
 */
export const FSTAB_GENERATOR = `#!/bin/sh
set -eu
out="\${1:-/tmp}"
[ -r /etc/fstab ] || exit 0
# in a VM (the NFS tier boots the same base in qemu) systemd's own generator handles these lines
systemd-detect-virt --container --quiet || exit 0
while read -r what where type opts _rest; do
  case "$what" in ''|'#'*) continue ;; esac
  case "$what" in /dev/*|UUID=*|LABEL=*|PARTUUID=*|PARTLABEL=*) ;; *) continue ;; esac
  case "$type" in swap|'') continue ;; esac
  opts="\${opts:-defaults}"
  case ",$opts," in *,noauto,*) continue ;; esac
  unit="$(systemd-escape --path --suffix=mount "$where")"
  {
    echo '[Unit]'
    echo 'Documentation=man:fstab(5)'
    echo 'SourcePath=/etc/fstab'
    echo 'Before=local-fs.target'
    echo '[Mount]'
    echo "What=$what"
    echo "Where=$where"
    echo "Type=$type"
    echo "Options=$opts"
  } > "$out/$unit"
  case ",$opts," in *,nofail,*) dep=wants ;; *) dep=requires ;; esac
  mkdir -p "$out/local-fs.target.$dep"
  ln -sf "../$unit" "$out/local-fs.target.$dep/$unit"
done < /etc/fstab
`;

export const SSHD_SNIPPET = `# iCBD lab: the operator logs in as root with its key only.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
# The console opens several channels per host at once (transfers, terminal, probes).
MaxSessions 50
MaxStartups 50:30:100
`;

/**
 * Runs a host's machine (systemd-nspawn, or qemu for the NFS tier) and starts it again when the
 * host reboots (nspawn exits 133 on \`systemctl reboot\`; qemu reboots by itself). It first moves
 * itself into the host's own cgroups so that the host's systemd gets a tree of its own and
 * \`down\` can find every process by cgroup.
 * Arguments: <unified cgroup dir> <name=systemd cgroup dir> <program> <args...>
 */
export const SUPERVISOR = `#!/bin/sh
# outside its cgroup the host would be invisible to stop, reset and down: refuse to run
echo $$ > "$1/cgroup.procs" || exit 1
echo $$ > "$2/cgroup.procs" || exit 1
shift 2
stop=0
child=
trap 'stop=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
while :; do
  "$@" </dev/null &
  child=$!
  rc=0
  wait "$child" || rc=$?
  # wait returns early when the trap fires; the real exit status comes with the last wait
  while kill -0 "$child" 2>/dev/null; do rc=0; wait "$child" || rc=$?; done
  echo "icbd-lab: $1 exited with $rc" >&2
  [ "$stop" = 0 ] && [ "$rc" = 133 ] || exit 0
done
`;
