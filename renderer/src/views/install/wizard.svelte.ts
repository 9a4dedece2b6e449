import { WIZARD_STAGES, requestOf, type InstallDisks, type InstallPlanOut, type InstallSettings, type InstallState, type WizardStage } from '../../../../shared/install.ts';
import { Action } from '../../lib/action.svelte.ts';
import { api } from '../../lib/api.ts';
import { jobTracker } from '../../lib/jobs.svelte.ts';

export { WIZARD_STAGES };

export const STAGE_LABELS: Record<WizardStage, string> = {
  host: 'Host',
  preflight: 'Preflight',
  disk: 'Disk',
  network: 'Cache and network',
  review: 'Review',
  apply: 'Apply',
  reboot: 'Reboot and verify',
  done: 'Done',
};

const at = (s: WizardStage) => WIZARD_STAGES.indexOf(s);

/**
 * The cache-node wizard of one host. Every stage change and every choice is saved on the core
 * (install.remember), so closing the window anywhere and opening it again lands on the same
 * stage with the same choices; a run the core still has going is picked up by its job id.
 */
export class Wizard {
  host = $state<string>();
  state = $state.raw<InstallState>();
  stage = $state<WizardStage>('host');
  /** The furthest stage reached: the stepper lets the operator go back to any stage up to it. */
  reached = $state<WizardStage>('host');
  disks = $state.raw<InstallDisks>();
  plan = $state.raw<InstallPlanOut>();
  jobId = $state<string>();
  readonly #action = new Action();

  get busy(): boolean {
    return this.#action.busy;
  }

  get error(): unknown {
    return this.#action.error;
  }

  readonly job = $derived(this.jobId ? jobTracker.jobs[this.jobId] : undefined);
  readonly log = $derived(this.jobId ? (jobTracker.logs[this.jobId] ?? []) : []);

  async open(host: string): Promise<void> {
    await this.#action.run(async () => {
      const state = await api.invoke('install.state', { host });
      this.host = host;
      this.state = state;
      this.plan = undefined;
      this.disks = undefined;
      const stage = state.stage && state.stage !== 'host' ? state.stage : 'preflight';
      this.reached = stage;
      this.stage = stage;
      // a run this core still has going (or that ended while the window was closed) is followed again
      if (state.run && (stage === 'apply' || stage === 'reboot')) {
        this.jobId = state.run.jobId;
        const known = (await api.invoke('jobs.list', {})).find((j) => j.id === state.run!.jobId);
        if (known) jobTracker.track(known);
      } else this.jobId = undefined;
      if (stage === 'preflight' || stage === 'disk') await this.loadDisks();
      if (stage === 'review' || stage === 'done') await this.check();
    });
  }

  async go(stage: WizardStage): Promise<void> {
    if (!this.host) return;
    this.stage = stage;
    if (at(stage) > at(this.reached)) this.reached = stage;
    await this.#action.run(async () => {
      this.state = await api.invoke('install.remember', { host: this.host!, stage });
      if ((stage === 'preflight' || stage === 'disk') && !this.disks) await this.loadDisks();
      if (stage === 'review') await this.check();
    });
  }

  async save(settings: InstallSettings): Promise<void> {
    await this.#action.run(async () => {
      this.state = await api.invoke('install.remember', { host: this.host!, settings });
    });
  }

  async loadDisks(): Promise<void> {
    this.disks = await api.invoke('install.disks', { host: this.host! });
  }

  /** The plan with the chosen disk as confirmation, so the review shows the mkfs it would run. */
  async check(): Promise<void> {
    const s = this.state!.settings;
    this.plan = await api.invoke('install.plan', requestOf(this.host!, s, s.disk));
  }

  async apply(): Promise<void> {
    const s = this.state!.settings;
    await this.#action.run(async () => {
      this.jobId = (await api.invoke('install.apply', requestOf(this.host!, s, s.disk))).jobId;
    });
    if (!this.error) await this.go('apply');
  }

  async reboot(): Promise<void> {
    await this.#action.run(async () => {
      this.jobId = (await api.invoke('install.reboot', requestOf(this.host!, this.state!.settings))).jobId;
    });
  }

  async recheck(): Promise<void> {
    await this.#action.run(() => this.check());
  }

  close(): void {
    this.host = undefined;
    this.state = undefined;
    this.stage = 'host';
    this.reached = 'host';
    this.jobId = undefined;
  }
}
