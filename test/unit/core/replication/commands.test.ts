import { describe, expect, it } from 'vitest';
import { addImageArgv, estimateArgv, filesystemDuArgv, listRepoArgv, parseEstimate, parseFilesystemDu, parseFilesystemUsage, parseProbe, probeArgv, removeReceivedArgv, snapshotArgv, stage } from '../../../../electron/core/replication/commands.ts';

describe('repository commands', () => {
  it('paths travel as positional arguments, never inside the script', () => {
    for (const argv of [listRepoArgv('/r'), addImageArgv('/r/i', '/w/i'), snapshotArgv('/w/i', '/r/i/3'), removeReceivedArgv('/r/i/3', '/run/lock/icbd-receive-abc', '/run/lock/icbd-snapshot-r-i-3', 'abc')]) {
      expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
      expect(argv[2]).not.toMatch(/\/r\b|\/w\b/);
      expect(argv[3]).toBe('sh');
    }
    expect(addImageArgv('/r/i')).toEqual(['sh', '-c', expect.any(String), 'sh', '/r/i', '']);
    expect(listRepoArgv('/r', 'win10').slice(3)).toEqual(['sh', '/r', 'win10']);
  });
  it('a stage reports its exit status and refuses odd names', () => {
    expect(stage('receive@cache01', ['btrfs', 'receive', "/a b/it's"])).toBe(`{ btrfs receive '/a b/it'\\''s'; echo "icbd:exit:receive@cache01:$?" >&2; }`);
    expect(() => stage('x;y', ['true'])).toThrow();
  });
});

describe('probe', () => {
  // Captured on this machine (Debian 12) by probeArgv.
  const OUT = 'icbd:tool btrfs\nicbd:tool zstd\nicbd:tool lz4\nicbd:tool gzip\nicbd:tool socat\nicbd:tool ssh\nicbd:tool mkfifo\nicbd:tool tee\nicbd:btrfs btrfs-progs v6.2\nicbd:tee-p\n';
  it('reads tools, the btrfs-progs version and tee -p', () => {
    const p = parseProbe(OUT);
    expect([...p.tools]).toEqual(['btrfs', 'zstd', 'lz4', 'gzip', 'socat', 'ssh', 'mkfifo', 'tee']);
    expect(p.btrfsVersion).toBe('btrfs-progs v6.2');
    expect(p.teeKeepsGoing).toBe(true);
    expect(parseProbe('')).toEqual({ tools: new Set(), btrfsVersion: null, teeKeepsGoing: false });
    expect(probeArgv()).toContain('snzip');
  });
});

describe('size estimate', () => {
  it('sends with --no-data, with -p only for an incremental', () => {
    expect(estimateArgv('/r/i/3', '/r/i/1')[2]).toContain("btrfs send -q --no-data -p /r/i/1 /r/i/3");
    expect(estimateArgv('/r/i/3', null)[2]).toContain('btrfs send -q --no-data /r/i/3;');
    expect(estimateArgv('/r/i/3', null)[2]).toContain('prefix=4');
  });
  it('adds the no-data stream, the extents and the write headers', () => {
    // Captured: img1@3 against @1 on the loop-device fixture; the real stream was 220 bytes.
    const r = parseEstimate('icbd:nodata 220\nicbd:estimate 8 -8\n', 'icbd:exit:nodata:0\nicbd:exit:nodata:0\nicbd:exit:dump:0\n');
    expect(r).toEqual({ bytes: 220 });
  });
  it('says why there is no estimate', () => {
    expect(parseEstimate('icbd:nodata 0\n', 'ERROR: parent determination failed\nicbd:exit:nodata:1\n')).toEqual({ problem: 'btrfs send --no-data failed (exit 1): ERROR: parent determination failed' });
    expect(parseEstimate('', '')).toMatchObject({ problem: expect.stringMatching(/nothing usable/) });
    // The sender's broken pipe after a dump that read the whole stream is not a failure; before it, it is.
    expect(parseEstimate('icbd:nodata 220\nicbd:estimate 8 -8\n', 'icbd:exit:nodata:0\nicbd:exit:nodata:141\nicbd:exit:dump:0\n')).toEqual({ bytes: 220 });
    expect(parseEstimate('icbd:nodata 220\n', 'icbd:exit:nodata:0\nicbd:exit:nodata:141\nicbd:exit:dump:1\n')).toMatchObject({ problem: expect.stringMatching(/failed \(exit 141\)/) });
  });
});

describe('free space', () => {
  it('reads btrfs filesystem usage -b "Free (estimated)", not the device size', () => {
    const out = `Overall:
    Device size:		  4294967296
    Device unallocated:		  3187671040
    Used:			   806354944
    Free (estimated):		  3304718336	(min: 1710882816)
    Free (statfs, df):		  3303669760
Data,single: Size:1082130432, Used:804257792 (74.32%)
`;
    expect(parseFilesystemUsage(out).freeBytes).toBe(3304718336);
    expect(() => parseFilesystemUsage('ERROR: not a btrfs filesystem: /x')).toThrow(/Not the output of btrfs filesystem usage -b/);
  });
});

describe('disk use of one snapshot without quotas', () => {
  it('reads btrfs filesystem du -s --raw: total, exclusive, set shared', () => {
    expect(filesystemDuArgv("/r/it's/3")).toEqual(['sh', '-c', expect.stringMatching(/^btrfs filesystem sync "\$1" .*\nexec btrfs filesystem du -s --raw "\$1"$/), 'sh', "/r/it's/3"]);
    const out = `     Total   Exclusive  Set shared  Filename
  68157440     1376256    66781184  /var/lib/icbd/.snap/win10/2
`;
    expect(parseFilesystemDu(out)).toEqual({ totalBytes: 68157440, exclusiveBytes: 1376256, sharedBytes: 66781184 });
    // A snapshot that shares nothing: btrfs-progs prints "-" for the set's shared bytes.
    expect(parseFilesystemDu('     Total   Exclusive  Set shared  Filename\n     4096        4096           -  /r/i/1\n')).toEqual({ totalBytes: 4096, exclusiveBytes: 4096, sharedBytes: 0 });
    expect(() => parseFilesystemDu("ERROR: cannot check space of '/r/i/9': No such file or directory")).toThrow(/Not the output of btrfs filesystem du/);
  });
});
