import { describe, expect, it } from 'vitest';
import { editFstab, entryProblems, fstabLine, fstabProblems, orderMounts, resolveBinds, type FstabEntry } from '../../../shared/fstab.ts';
import { unifiedDiff } from '../../../shared/unified-diff.ts';

const UUID = '3f1c2a8e-6b7d-4e2f-9a10-5c4b3d2e1f00';
const lib: FstabEntry = { source: `UUID=${UUID}`, target: '/var/lib', type: 'btrfs', options: ['subvol=Lib'] };
const tftp: FstabEntry = { source: '/var/lib/icbd/mounts/tftpboot', target: '/var/lib/tftpboot', type: 'none', options: ['rbind'] };
const tftpIcbd: FstabEntry = { source: '/var/lib/icbd/icbd', target: '/var/lib/tftpboot/icbd', type: 'none', options: ['rbind'] };
const hosts: FstabEntry = { source: '/var/lib/icbd/mounts/etc/hosts', target: '/etc/hosts', type: 'none', options: ['bind'] };
const nfsHome: FstabEntry = { source: 'home.icbd.local:/nfs_home', target: '/var/lib/icbd/nfs_home', type: 'nfs4', options: ['_netdev', 'rw'] };
const exportHome: FstabEntry = { source: '/var/lib/icbd/nfs_home', target: '/var/lib/icbd/exports/nfs_home', type: 'none', options: ['rbind'] };
const ours = [lib, tftp, hosts, tftpIcbd];

// A hand-kept file: comments, tabs and runs of spaces, a blank line, a foreign mount, an odd line.
const FOREIGN =
  '# /etc/fstab: static file system information.\n' +
  '#\n' +
  'UUID=0a1b2c3d-0000-4000-8000-000000000001 /               ext4    errors=remount-ro 0       1\n' +
  '\n' +
  '/dev/sr0\t\t/media/cdrom0\tudf,iso9660 user,noauto     0 0\n' +
  '   # indented comment with trailing spaces   \n' +
  'tmpfs /tmp tmpfs defaults,size=2G 0 0\n';

const ourLines = (text: string) => text.split('\n').filter((l) => ours.some((e) => l === fstabLine(e)));

describe('fstab lines', () => {
  it('are written as the guide says: fields by tabs, the numbers by a space', () => {
    expect(fstabLine(lib)).toBe(`UUID=${UUID}\t/var/lib\tbtrfs\tsubvol=Lib\t0 0`);
    expect(fstabLine({ ...tftp, source: '/srv/with space' })).toBe('/srv/with\\040space\t/var/lib/tftpboot\tnone\trbind\t0 0');
  });
});

describe('editing /etc/fstab', () => {
  it('keeps every foreign byte and only adds our lines', () => {
    const after = editFstab(FOREIGN, ours);
    expect(after.startsWith(FOREIGN)).toBe(true);
    expect(after.slice(FOREIGN.length)).toBe(orderMounts(ours).map((e) => fstabLine(e) + '\n').join(''));
  });

  it('is a no-op on its own result (a second run changes nothing)', () => {
    const once = editFstab(FOREIGN, ours);
    expect(editFstab(once, ours)).toBe(once);
  });

  it('replaces a line for one of our mount points in place, never duplicating it', () => {
    const guideLine = '/dev/sdb\t/var/lib\tbtrfs\tsubvol=Lib\t0 0\n';
    const text = FOREIGN + guideLine + '/var/lib/icbd/mounts/etc/hosts /etc/hosts/ none bind 0 0\n';
    const after = editFstab(text, ours);
    expect(after.split('\n').filter((l) => l.includes('/var/lib\tbtrfs'))).toEqual([fstabLine(lib)]);
    expect(after.match(/\/etc\/hosts/g)).toHaveLength(2); // source and target of one line
    expect(after.startsWith(FOREIGN + fstabLine(lib) + '\n')).toBe(true);
  });

  it('drops a second copy of one of our lines', () => {
    const text = FOREIGN + fstabLine(lib) + '\n' + fstabLine(lib) + '\n';
    expect(ourLines(editFstab(text, [lib]))).toEqual([fstabLine(lib)]);
  });

  it('adds the final newline a file lacked before appending, and changes nothing else', () => {
    const noEol = FOREIGN.slice(0, -1);
    expect(editFstab(noEol, [lib])).toBe(FOREIGN + fstabLine(lib) + '\n');
    expect(editFstab(noEol, [])).toBe(noEol);
  });

  it('keeps a last line without newline when it is ours and unchanged', () => {
    const text = FOREIGN + fstabLine(lib);
    expect(editFstab(text, [lib])).toBe(text);
  });

  it('puts a new line before a foreign line that needs it', () => {
    const text = FOREIGN + '/dev/vdc /var/lib/docker ext4 defaults 0 0\n';
    const after = editFstab(text, [lib]);
    expect(after).toBe(FOREIGN + fstabLine(lib) + '\n/dev/vdc /var/lib/docker ext4 defaults 0 0\n');
    expect(fstabProblems(after, [lib])).toEqual([]);
  });

  it('moves one of our lines that sits before a line it needs', () => {
    const text = fstabLine(tftpIcbd) + '\n# keep me\n' + fstabLine(lib) + '\n' + fstabLine(tftp) + '\n';
    const after = editFstab(text, ours);
    expect(after).toBe(`# keep me\n${fstabLine(lib)}\n${fstabLine(tftp)}\n${fstabLine(tftpIcbd)}\n${fstabLine(hosts)}\n`);
    expect(fstabProblems(after, ours)).toEqual([]);
  });
});

describe('ordering', () => {
  it('puts every mount after the ones its mount point and its bind source live in', () => {
    // /etc/hosts comes after /var/lib because its bind source lives there
    expect(orderMounts([tftpIcbd, hosts, tftp, lib]).map((e) => e.target)).toEqual(['/var/lib', '/etc/hosts', '/var/lib/tftpboot', '/var/lib/tftpboot/icbd']);
  });

  it("mounts the cache's nfs4 nfs_home before the rbind that exports it (the guide has it the other way)", () => {
    expect(orderMounts([lib, exportHome, nfsHome]).map((e) => e.target)).toEqual(['/var/lib', '/var/lib/icbd/nfs_home', '/var/lib/icbd/exports/nfs_home']);
  });

  it('keeps the given order where nothing depends', () => {
    const a: FstabEntry = { source: '/srv/a', target: '/mnt/a', type: 'none', options: ['bind'] };
    const b: FstabEntry = { source: '/srv/b', target: '/mnt/b', type: 'none', options: ['bind'] };
    expect(orderMounts([b, a])).toEqual([b, a]);
  });

  it('refuses mounts that need each other', () => {
    const a: FstabEntry = { source: '/b/x', target: '/a', type: 'none', options: ['bind'] };
    const b: FstabEntry = { source: '/a/y', target: '/b', type: 'none', options: ['bind'] };
    expect(() => orderMounts([a, b])).toThrow(/need each other/);
  });

  it('finds where a nested mount point physically lives', () => {
    expect(resolveBinds('/var/lib/tftpboot/icbd', ours)).toBe('/var/lib/icbd/mounts/tftpboot/icbd');
    expect(resolveBinds('/etc/tgt/macs.d', [{ source: '/var/lib/icbd/mounts/etc/tgt', target: '/etc/tgt', type: 'none', options: ['rbind'] }])).toBe('/var/lib/icbd/mounts/etc/tgt/macs.d');
    expect(resolveBinds('/var/lib/tftpboot', ours)).toBe('/var/lib/tftpboot');
  });
});

describe('validation', () => {
  it('accepts a good file', () => expect(fstabProblems(editFstab(FOREIGN, ours), ours)).toEqual([]));

  it('reports field counts, relative mount points, bad numbers, empty options and duplicates', () => {
    const bad = 'onlythree fields here\n/dev/x relative ext4 defaults 0 0\n/dev/y /z ext4 rw,,noatime 0 x\n/dev/a /d ext4 defaults 0 0\n/dev/b /d/ ext4 defaults 0 0\n/dev/c /e ext4 a 0 0 7 8\n';
    const problems = fstabProblems(bad, []);
    expect(problems).toEqual([
      'line 1: 3 fields; an fstab line has 4 to 6.',
      'line 2: the mount point relative is not an absolute path.',
      'line 3: the dump and pass fields are numbers.',
      'line 3: empty mount option in rw,,noatime.',
      'line 5: /d is already mounted by line 4.',
      'line 6: 8 fields; an fstab line has 4 to 6.',
    ]);
  });

  it('reports a mount that comes before what it needs', () => {
    const text = fstabLine(tftpIcbd) + '\n' + fstabLine(lib) + '\n' + fstabLine(tftp) + '\n';
    expect(fstabProblems(text, [])).toEqual(['line 1: /var/lib/tftpboot/icbd needs /var/lib, which is only mounted on line 2.']);
  });

  it('reports our line missing or altered', () => {
    expect(fstabProblems(FOREIGN, [lib])).toEqual(['/var/lib: our line is missing or altered.']);
    expect(fstabProblems(FOREIGN + fstabLine({ ...lib, options: ['subvol=Lib', 'noatime'] }) + '\n', [lib])).toEqual(['/var/lib: our line is missing or altered.']);
  });

  it('knows the only three shapes the installer writes', () => {
    expect(entryProblems(lib)).toEqual([]);
    expect(entryProblems({ ...lib, source: '/dev/sdb' })).toEqual(['/dev/sdb on /var/lib: a btrfs line names its filesystem by UUID= and its subvolume by subvol=.']);
    expect(entryProblems({ ...tftp, options: ['defaults'] })[0]).toMatch(/bind or rbind/);
    expect(entryProblems({ ...nfsHome, options: ['rw'] })[0]).toMatch(/_netdev/);
    expect(entryProblems({ ...tftp, type: 'ext4' })[0]).toMatch(/type ext4 is not one the installer writes/);
    expect(entryProblems({ ...tftp, target: 'tftpboot' })).toContain('/var/lib/icbd/mounts/tftpboot on tftpboot: the mount point is not absolute.');
  });
});

describe('the diff shown before writing', () => {
  it('is diff -u with three lines of context', () => {
    expect(unifiedDiff('/etc/fstab', FOREIGN, editFstab(FOREIGN, [lib]))).toBe(
      '--- a/etc/fstab\n+++ b/etc/fstab\n@@ -5,3 +5,4 @@\n /dev/sr0\t\t/media/cdrom0\tudf,iso9660 user,noauto     0 0\n' +
        '    # indented comment with trailing spaces   \n tmpfs /tmp tmpfs defaults,size=2G 0 0\n' +
        `+UUID=${UUID}\t/var/lib\tbtrfs\tsubvol=Lib\t0 0\n`,
    );
  });

  it('shows a replaced line as removal then addition, and a missing final newline', () => {
    expect(unifiedDiff('/f', 'a\nold', 'a\nnew\n')).toBe('--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-old\n\\ No newline at end of file\n+new\n');
  });

  it('splits distant changes into hunks and is empty when nothing changes', () => {
    const before = Array.from({ length: 20 }, (_, i) => `l${i}\n`).join('');
    const after = before.replace('l2\n', 'L2\n').replace('l17\n', 'L17\n');
    const diff = unifiedDiff('/f', before, after);
    expect(diff.match(/^@@/gm)).toEqual(['@@', '@@']);
    expect(diff).toContain('@@ -1,6 +1,6 @@');
    expect(diff).toContain('@@ -15,6 +15,6 @@');
    expect(unifiedDiff('/f', before, before)).toBe('');
  });

  it('diffs a new file against nothing', () => {
    expect(unifiedDiff('/f', '', 'x\n')).toBe('--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n');
  });
});
