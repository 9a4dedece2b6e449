import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

/**
 * Three groups, run one after another: pure logic first (seconds), then the lab (real hosts,
 * one file at a time since they share the machine's lab), then the browser against the lab.
 * Unit and renderer tests get 30 s, not vitest's 5: on a 2-CPU machine whose other group is busy
 * a jsdom render or a spawned shell can take 5 s without anything being wrong.
 */
const NFS_INSTALL = 'test/lab/install-nfs.test.ts';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          setupFiles: ['test/setup/unit-suites.ts'],
          environment: 'node',
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        plugins: [svelte()],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'renderer',
          include: ['renderer/**/*.spec.ts'],
          environment: 'jsdom',
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          exclude: [NFS_INSTALL],
          setupFiles: ['test/setup/lab-suites.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        // `npm run test:nfs`, not part of `npm test`: since its three qemu VMs (software emulation)
        // install the guide's packages through the lab's mirror, the test takes longer than its
        // 15 minutes on this 2-CPU machine (measured: home and rw unfinished after 15 min).
        test: {
          name: 'nfs',
          include: [NFS_INSTALL],
          setupFiles: ['test/setup/lab-suites.ts'],
          environment: 'node',
          testTimeout: 3_600_000,
          hookTimeout: 900_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          setupFiles: ['test/setup/e2e-suites.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
