import { z } from 'zod';
import type { WireError } from './errors.ts';
import { auditEntry, auditQuery } from './audit.ts';
import { fileListing } from './files.ts';
import { host, proposedHost } from './inventory.ts';
import { address, hostName, localFilePath, port } from './names.ts';
import { jobId, jobInfo, jobLog, jobStarted } from './jobs.ts';
import { overview } from './overview.ts';
import { prompt, promptAnswer, promptId } from './prompts.ts';
import { hostHealth, knownHostEntry, secretsStatus, terminalEvent } from './ssh.ts';
import { labHostAction, labInfo, labLinkInput, labPreflight, labSelftestResult, labUpInput } from './lab.ts';
import { installDisks, installPlan, installRemember, installRequest, installState, trustPlan } from './install.ts';
import { measureInput, nodeImageInput, pruneInput, pruneReport, retireImageInput, settingsEntry, settingsSetInput, snapshotCreateInput, snapshotDeleteInput, snapshotInfo, snapshotRef, snapshotTree, snapshotUsage, subvolumeList } from './replication.ts';
import { nodeRepo, snapshot } from './snapshots.ts';
import { schedule, scheduleFailed, scheduleInput, scheduleList, scheduleName, scheduleNotify, scheduleRun } from './schedules.ts';
import { pushInput, pushPlan, setupKeysInput, setupKeysResult, syncInput, syncPlan, transferId, transferLogLine, transferRecord, uploadInput, uploadRecord } from './transfers.ts';

/**
 * Every request and event that crosses a process boundary, declared once. The renderer's client,
 * the ipcMain handlers, the WebSocket server and the CLI are all derived from these two maps, so
 * a channel that is not here does not exist anywhere.
 */

const empty = z.object({}).strict();

function request<I extends z.ZodType, O extends z.ZodType>(input: I, output: O, doc: string) {
  return { input, output, doc };
}

export const appInfo = z.object({
  name: z.string(),
  version: z.string(),
  home: z.string(),
  door: z.enum(['electron', 'browser', 'cli']),
});

export const requests = {
  'app.info': request(empty, appInfo, 'Name, version, data directory and which door is in use.'),
  'hosts.list': request(empty, z.array(host), 'Every inventory host.'),
  'hosts.add': request(host, host, 'Add a host; refused when the name exists or the jump host does not.'),
  'hosts.update': request(
    z.object({ name: hostName, host }).strict(),
    host,
    'Replace the host called `name` (renaming is allowed) and repoint hosts that jumped through it.',
  ),
  'hosts.remove': request(
    z.object({ name: hostName }).strict(),
    z.object({ removed: hostName }),
    'Remove a host; refused while another host uses it as jump host.',
  ),
  'audit.list': request(auditQuery, z.array(auditEntry), 'Audit log entries, newest first, filtered by host and time.'),
  'jobs.list': request(empty, z.array(jobInfo), 'Jobs of this session, newest first.'),
  'jobs.cancel': request(z.object({ id: jobId }).strict(), z.object({ cancelled: z.boolean() }), 'Cancel a running job.'),
  'lab.preflight': request(empty, labPreflight, 'Can this machine run the demo lab? Each problem comes with its fix.'),
  'lab.status': request(empty, labInfo.nullable(), 'The demo lab and its hosts, or null when it is not up.'),
  'lab.up': request(labUpInput, jobStarted, 'Start the demo lab (a job) and, unless told not to, add its hosts to the inventory.'),
  'lab.down': request(empty, jobStarted, 'Stop the demo lab and remove everything it made (a job).'),
  'lab.host': request(labHostAction, z.object({ done: z.string() }), 'Reset, stop, start, cut or heal a lab host.'),
  'lab.link': request(labLinkInput, z.object({ done: z.string() }), "Give a lab host's site link a rate in both directions (token bucket), or take it off."),
  'lab.selftest': request(empty, labSelftestResult, 'Prove the lab works: ssh through imgs, mkfs, fstab across a reboot, a service, send/receive.'),
  'ssh.exec': request(
    z.object({ host: hostName, command: z.string().min(1, 'Give a command to run.'), timeoutMs: z.number().int().positive().optional() }).strict(),
    jobStarted,
    "Run the operator's own command line on a host (a job: output as job.log, {code, signal} as its result).",
  ),
  'health.list': request(empty, z.array(hostHealth), 'Up/down, latency and last error of every inventory host, as last probed.'),
  'health.check': request(z.object({ host: hostName.optional() }).strict(), z.array(hostHealth), 'Probe now (one host, or all) and answer with the result.'),
  'knownHosts.list': request(empty, z.array(knownHostEntry), "Host keys known from ~/.ssh and the app's own known_hosts."),
  'knownHosts.forget': request(
    z.object({ address, port: port.default(22) }).strict(),
    z.object({ removed: z.number().int() }),
    "Forget the app's saved keys of an address (as ssh-keygen -R); ~/.ssh files are left to the operator.",
  ),
  'secrets.status': request(empty, secretsStatus, 'Whether passwords and passphrases are remembered, and if not why.'),
  'prompts.list': request(empty, z.array(prompt), 'Questions waiting for the operator (unknown host keys, passwords).'),
  'prompts.answer': request(promptAnswer, z.object({ answered: promptId }), 'Answer a question: accept or reject a host key, give or decline a secret.'),
  'hosts.proposeFromSshConfig': request(
    z.object({ path: z.string().regex(/^\//, 'The path of an ssh config file is absolute.').optional() }).strict(),
    z.object({
      proposals: z.array(z.object({ host: proposedHost, alias: z.string(), notes: z.array(z.string()) })),
      skipped: z.array(z.object({ alias: z.string(), reason: z.string() })),
    }),
    'Hosts proposed from an OpenSSH config file (default ~/.ssh/config) and its Includes, read as `ssh -G` reads it: jump chains become jump hosts, jump hosts come before the hosts behind them, roles are guessed from names or left out; nothing is added.',
  ),
  'terminal.open': request(
    z.object({ host: hostName.optional(), cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) }).strict(),
    z.object({ id: z.string(), title: z.string() }),
    'Open a shell: on an inventory host over SSH (through its jump hosts), or a local one when no host is named.',
  ),
  'terminal.write': request(z.object({ id: z.string(), data: z.string().max(1_000_000) }).strict(), z.object({}), 'Keystrokes or pasted text for a terminal.'),
  'terminal.resize': request(
    z.object({ id: z.string(), cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) }).strict(),
    z.object({}),
    'The terminal window changed size.',
  ),
  'terminal.ack': request(z.object({ id: z.string(), chars: z.number().int().min(0) }).strict(), z.object({}), 'The window has drawn this much output (flow control).'),
  'terminal.close': request(z.object({ id: z.string() }).strict(), z.object({}), 'Close a terminal (hangs up its shell).'),
  'install.plan': request(installRequest, installPlan, 'Dry run: read the host once and plan every step of its role (changes with diffs and exact commands); nothing changes.'),
  'install.apply': request(installRequest, jobStarted, 'Install a role (a job: progress per step, the command log as job.log, the final plan as result). Refused while the plan has blockers.'),
  'install.reboot': request(installRequest, jobStarted, 'Reboot a host, wait for it over SSH and check it again (a job; result: the plan, empty when every mount and service came back).'),
  'install.state': request(z.object({ host: hostName }).strict(), installState, "What is known of a host's install (wizard stage, choices, last run and check), or proposed settings when nothing is."),
  'install.remember': request(installRemember, installState, "Save the wizard's stage and choices for a host, so it resumes there."),
  'install.disks': request(z.object({ host: hostName }).strict(), installDisks, "A host's disks, each with why it may not be formatted, and the preflight's findings."),
  'install.planTrust': request(empty, trustPlan, "Dry run of Annex 2's SSH table over the platform: each installed node's /etc/hosts and SSH trust of every other node; nothing changes."),
  'install.trust': request(empty, jobStarted, 'Bring SSH trust between every installed node up to the table (a job: the command log as job.log, the plan made after as result, empty when done).'),
  'replication.repos': request(
    z.object({ nodes: z.array(hostName).optional() }).strict(),
    z.array(nodeRepo),
    'The image repository of each node (default: imgs and every cache): images, snapshots and their btrfs facts.',
  ),
  'replication.tree': request(empty, snapshotTree, 'Images → snapshots × nodes: present, missing, diverged or in transfer, with sizes, age and parents.'),
  'replication.snapshotInfo': request(
    snapshotRef,
    snapshotInfo,
    "One snapshot's copy on each node: its btrfs facts, the snapshot it follows, the transfer that brought it (full or incremental, from which parent), where a diverged copy diverged, and retention's verdict with every reason.",
  ),
  'replication.measure': request(
    measureInput,
    snapshotUsage,
    "A snapshot's disk use on a node without quotas (btrfs filesystem du -s): total, exclusive (about what deleting it frees) and shared; reads every extent, so on request only.",
  ),
  'replication.subvolumes': request(z.object({ node: hostName }).strict(), subvolumeList, "A node's raw btrfs subvolume list (Lib, icbd, .snap …), to check an installation."),
  'replication.addImage': request(nodeImageInput, nodeRepo, "Add an image to a node's repository (on imgs also its working subvolume)."),
  'replication.snapshot': request(snapshotCreateInput, snapshot, "Take the next numbered read-only snapshot of an image's working subvolume (default on imgs)."),
  'replication.deleteSnapshot': request(
    snapshotDeleteInput,
    z.object({ deleted: z.string() }),
    'Delete a snapshot; refused while a replica needs it as incremental parent, unless forced.',
  ),
  'replication.retireImage': request(
    retireImageInput,
    z.object({ retired: z.string(), overridden: z.array(z.string()) }),
    "Retire an image whole on a node (Annex 1's deleteImage: its snapshots and, on imgs, its working copy); refused while a cache carries it or a transfer uses it, unless forced.",
  ),
  'replication.prune': request(
    pruneInput,
    pruneReport,
    "Delete the snapshots a node's retention policy does not keep (default: every repository node), each deletion audited; with dryRun only what would go and why each survivor stays.",
  ),
  'replication.planPush': request(pushInput, pushPlan, 'What a push would do (parent, codec, exact commands, who is skipped and why); nothing runs.'),
  'replication.push': request(pushInput, z.object({ plan: pushPlan, transfers: z.array(transferRecord) }), 'Plan a push again on the core and queue its transfers.'),
  'replication.planSync': request(syncInput.partial({ source: true }), syncPlan, 'Every carried image’s newest snapshot to every cache lacking it, receivers grouped into fan-outs; nothing runs.'),
  'replication.sync': request(
    syncInput.partial({ source: true }),
    z.object({ plan: syncPlan, transfers: z.array(transferRecord) }),
    'Plan the sync again on the core and queue its transfers.',
  ),
  'replication.setupKeys': request(
    setupKeysInput,
    setupKeysResult,
    "Let the source's root ssh to each receiver for direct mode: its key (made if missing) into their authorized_keys, their host keys (read over the console's verified connection) into its known_hosts; audited, then checked.",
  ),
  'replication.settings.get': request(z.object({ node: hostName.optional() }).strict(), z.array(settingsEntry), 'Replication settings of one node or of every imgs and cache node.'),
  'replication.settings.set': request(settingsSetInput, settingsEntry, "Change a node's replication settings (repository path, carried images, transfer limit …)."),
  'overview.get': request(
    empty,
    overview,
    "The operator's first look: every node's health and btrfs disk use, how far each cache is behind imgs per image, running and queued transfers, and every failure since the last acknowledgement, each with what to do.",
  ),
  'overview.ack': request(
    z.object({ at: z.number().int().positive().optional() }).strict(),
    z.object({ lastLook: z.number() }),
    'The operator has seen the failures up to `at` (the `at` of the overview shown; default now): the overview shows only newer ones (a marker in the data directory).',
  ),
  'transfers.list': request(empty, z.array(transferRecord), 'Every transfer, running and past (kept across restarts), newest first.'),
  'transfers.cancel': request(z.object({ id: transferId }).strict(), z.object({ cancelled: z.boolean() }), 'Cancel a queued or running transfer; partial receives and uploads are deleted.'),
  'transfers.log': request(z.object({ id: transferId }).strict(), z.array(z.string()), "A transfer's log, oldest line first."),
  'transfers.resume': request(
    z.object({ id: transferId }).strict(),
    z.array(transferRecord),
    'Go on with a push interrupted when its console went away, from what its receivers hold (only the rest is sent).',
  ),
  'transfers.upload': request(
    uploadInput,
    uploadRecord,
    "Queue an upload of a file on the core's machine to a node (an image's working subvolume, or its ISO subvolume). Refused before anything is sent when the file is missing, the name is taken (without overwrite) or the node lacks the space.",
  ),
  'files.list': request(
    z.object({ path: localFilePath.optional() }).strict(),
    fileListing,
    "A directory of the core's machine (default: the home directory), to choose a file to upload in browser mode: names, kinds and sizes only.",
  ),
  'files.pick': request(
    z.object({ title: z.string().max(200).optional() }).strict(),
    z.object({ path: localFilePath.nullable() }),
    "The operating system's open-file dialog, over the window: the chosen file, or null when cancelled. Only the Electron door answers it; browser mode lists directories with files.list.",
  ),
  'schedules.list': request(empty, scheduleList, 'Every schedule with its last run and next run, which process runs them, and the notify command.'),
  'schedules.add': request(
    z.object({ schedule: scheduleInput, replace: z.boolean().default(false) }).strict(),
    schedule,
    'Add a schedule (what, when, how); refused when the name is taken unless replace, or when a named cache is not in the inventory.',
  ),
  'schedules.remove': request(z.object({ name: scheduleName }).strict(), z.object({ removed: scheduleName }), 'Remove a schedule and its run state.'),
  'schedules.runNow': request(
    z.object({ name: scheduleName, wait: z.boolean().default(false) }).strict(),
    scheduleRun,
    "Run a schedule now in this process, whatever its time and window; refused while another process runs it. wait: answer when it has ended.",
  ),
  'schedules.notify': request(
    z.object({ notify: scheduleNotify.nullable() }).strict(),
    z.object({ notify: scheduleNotify.nullable() }),
    'Set (or clear, with null) the command run with the outcome of scheduled runs in its environment (ICBD_SCHEDULE, ICBD_OUTCOME, ICBD_MESSAGE …).',
  ),
} as const;

export const events = {
  'hosts.changed': z.object({ hosts: z.array(host) }),
  'job.update': jobInfo,
  'job.log': jobLog,
  'audit.appended': auditEntry,
  'health.changed': hostHealth,
  prompt,
  'prompt.closed': z.object({ id: promptId }),
  'terminal.event': terminalEvent,
  'transfer.update': transferRecord,
  'transfer.log': transferLogLine,
  'schedules.changed': scheduleList,
  'schedule.failed': scheduleFailed,
} as const;

export type Requests = typeof requests;
export type RequestName = keyof Requests;
export type EventName = keyof typeof events;
export type Input<K extends RequestName> = z.input<Requests[K]['input']>;
export type ParsedInput<K extends RequestName> = z.output<Requests[K]['input']>;
export type Output<K extends RequestName> = z.output<Requests[K]['output']>;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;

export const REQUEST_NAMES = Object.keys(requests) as RequestName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name);
}
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

/** What every door sends back for a request: a value, or an error rebuilt on the other side. */
export type Reply = { ok: true; value: unknown } | { ok: false; error: WireError };

/** The Electron channel name of a request or event; one channel per contract entry. */
export const ipcChannel = (name: RequestName) => `icbd:${name}`;
export const ipcEventChannel = (name: EventName) => `icbd:event:${name}`;
