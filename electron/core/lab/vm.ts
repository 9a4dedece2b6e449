import fs from 'node:fs';
import path from 'node:path';
import { run } from './exec.ts';
import { type HostCtx, isRunning, launch, mountRoot, unmountAll, wipeRoot } from './host.ts';
import { hostPaths } from './paths.ts';
import { type HostSpec, labNames } from './topology.ts';

/**
 * The NFS tier. This machine's kernel has no NFS client or server, so hosts that must export
 * or mount nfs4 boot the same base under qemu with Debian's own kernel. A VM's NICs are taps
 * on the lab's bridges (qemu runs inside the switch namespace), so it sits on iCBD-Net exactly
 * like a container host, reached through imgs.
 */
export const VM_PACKAGES = ['linux-image-amd64', 'udev'];

/** Hosts that are VMs in the NFS tier: the guide's NFS servers and the first cache, their client. */
export const NFS_VM_HOSTS = ['rw', 'home', 'cache01'];

const ROOT_BYTES = 3 * 1024 ** 3;

const vmFiles = (dir: string, host: string) => {
  const root = hostPaths(dir, host).root;
  return { image: path.join(root, 'rootfs.img') };
};

export const mac = (slot: number, hostIndex: number, nic: number) =>
  `52:54:00:${[slot, hostIndex, nic].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;

/** A tap per NIC, persistent, plugged into its bridge; it survives qemu restarts, `down` deletes it with the namespace. */
export async function createVmNetwork(slot: number, host: HostSpec): Promise<void> {
  const n = labNames(slot);
  for (const nic of host.nics) {
    const tap = n.port(host.name, nic.ifname);
    await run('ip', ['-n', n.switchNs, 'tuntap', 'add', 'mode', 'tap', 'name', tap]);
    await run('ip', ['-n', n.switchNs, 'link', 'set', tap, 'master', nic.net, 'up']);
  }
}

/**
 * Writes the VM's root image from the base plus the host's identity and network config
 * (systemd-networkd, matched by MAC), via the same overlay as a container host.
 */
export async function buildVmImage(ctx: HostCtx, hostIndex: number): Promise<void> {
  await wipeRoot(ctx);
  await mountRoot(ctx);
  const merged = hostPaths(ctx.dir, ctx.spec.name).merged;
  ctx.spec.nics.forEach((nic, i) => {
    fs.writeFileSync(
      path.join(merged, `etc/systemd/network/10-${nic.ifname}.network`),
      `[Match]\nMACAddress=${mac(ctx.slot, hostIndex, i)}\n\n[Network]\nAddress=${nic.address}/${nic.prefix}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
    );
  });
  await run('systemctl', ['--root', merged, 'enable', '--quiet', 'systemd-networkd.service']);
  const img = vmFiles(ctx.dir, ctx.spec.name).image;
  fs.rmSync(img, { force: true });
  await run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', merged, img, `${ROOT_BYTES / 1024}k`], { fix: 'apt-get install e2fsprogs' });
  await unmountAll(merged);
}

/** Boots the VM in the host's cgroup; qemu reboots the guest itself, so no restart loop is needed. */
export async function startVm(ctx: HostCtx, hostIndex: number): Promise<void> {
  if (isRunning(ctx)) return;
  const n = labNames(ctx.slot);
  const p = hostPaths(ctx.dir, ctx.spec.name);
  const kernel = fs.realpathSync(path.join(ctx.base, 'vmlinuz'));
  const initrd = fs.realpathSync(path.join(ctx.base, 'initrd.img'));
  const qemu = [
    'qemu-system-x86_64',
    '-name', ctx.spec.name,
    // software emulation: nested KVM, where /dev/kvm exists at all, hangs with no output
    '-accel', 'tcg,tb-size=256',
    '-m', '1024', '-smp', '1',
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-chardev', `file,id=con,path=${p.console},append=on`, '-serial', 'chardev:con',
    '-kernel', kernel, '-initrd', initrd,
    '-append', 'root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1',
    '-drive', `file=${vmFiles(ctx.dir, ctx.spec.name).image},format=raw,if=virtio,cache=unsafe`,
    '-drive', `file=${p.disk},format=raw,if=virtio`,
    ...ctx.spec.nics.flatMap((nic, i) => [
      '-netdev', `tap,id=n${i},ifname=${n.port(ctx.spec.name, nic.ifname)},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=n${i},mac=${mac(ctx.slot, hostIndex, i)}`,
    ]),
  ];
  await launch(ctx, ['ip', 'netns', 'exec', n.switchNs, ...qemu]);
}
