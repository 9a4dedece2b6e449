import { render, screen } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { LabInfoWire } from '../../../../shared/lab.ts';
import { AppError } from '../../../../shared/errors.ts';
import { fake } from '../../lib/fake-api.ts';
import LabLinks from './LabLinks.svelte';

vi.mock('../../lib/api.ts', async () => (await import('../../lib/fake-api.ts')).apiModule);

const host = (name: string, link?: string) => ({ name, role: name === 'imgs' ? 'imgs' : 'cache', address: '10.213.2.1', port: 22, user: 'root', state: 'running', ...(link && { link }) }) as LabInfoWire['hosts'][number];
const lab = (links: Record<string, string>): LabInfoWire => ({
  dir: '/var/lib/icbd-lab',
  hosts: ['imgs', 'cache01', 'cache02'].map((n) => host(n, links[n])),
  sshConfig: '/var/lib/icbd-lab/ssh_config',
  knownHosts: '/var/lib/icbd-lab/known_hosts',
  identityFile: '/var/lib/icbd-lab/id_ed25519',
  mirror: 'http://10.213.200.1:3143/',
});

beforeEach(() => fake.reset());

describe('the demo lab links', () => {
  it("shows each host's rate when opened and sets one, both through the contract", async () => {
    let links: Record<string, string> = { cache01: '100mbit' };
    fake.answer('lab.status', () => lab(links));
    fake.answer('lab.link', ({ host, rate }) => {
      links = { ...links, [host]: rate };
      return { done: `${host}'s link is ${rate}` };
    });
    render(LabLinks);
    const user = userEvent.setup();
    await user.click(screen.getByText('Demo lab links'));
    const cache01 = (await screen.findByRole('combobox', { name: 'Link rate of cache01' })) as HTMLSelectElement;
    expect(cache01.value).toBe('100mbit');
    expect((screen.getByRole('combobox', { name: 'Link rate of cache02' }) as HTMLSelectElement).value).toBe('off');
    expect(screen.getByText(/mirror, http:\/\/10\.213\.200\.1:3143\//)).toBeTruthy();

    await user.selectOptions(screen.getByRole('combobox', { name: 'Link rate of cache02' }), '50mbit');
    expect(fake.api.invoke).toHaveBeenCalledWith('lab.link', { host: 'cache02', rate: '50mbit' });
    expect(await screen.findByText("Done: cache02's link is 50mbit.")).toBeTruthy();
    expect((screen.getByRole('combobox', { name: 'Link rate of cache02' }) as HTMLSelectElement).value).toBe('50mbit');
  });

  it('says when no lab is up', async () => {
    fake.answer('lab.status', () => null);
    render(LabLinks);
    await userEvent.setup().click(screen.getByText('Demo lab links'));
    expect(await screen.findByText('No demo lab is up.')).toBeTruthy();
  });

  it('shows a failure of the lab in words', async () => {
    fake.answer('lab.status', () => lab({}));
    fake.answer('lab.link', () => {
      throw new AppError('UNAVAILABLE', 'tc qdisc add failed: run `lab down`, then `lab up`');
    });
    render(LabLinks);
    const user = userEvent.setup();
    await user.click(screen.getByText('Demo lab links'));
    await user.selectOptions(await screen.findByRole('combobox', { name: 'Link rate of cache01' }), '1gbit');
    expect(await screen.findByText(/tc qdisc add failed/)).toBeTruthy();
  });
});
