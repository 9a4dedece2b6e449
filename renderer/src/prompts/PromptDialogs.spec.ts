import { render, screen, waitFor, within } from '@testing-library/svelte';
import '@testing-library/svelte/vitest';
import { userEvent } from '@testing-library/user-event';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import type { Prompt } from '../../../shared/prompts.ts';
import { fake } from '../lib/fake-api.ts';
import { pendingPrompts } from '../lib/prompts.svelte.ts';
import PromptDialogs from './PromptDialogs.svelte';

vi.mock('../lib/api.ts', async () => (await import('../lib/fake-api.ts')).apiModule);

const FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

const hostKey = (patch: Partial<Extract<Prompt, { kind: 'hostKey' }>['question']> = {}, id = 'prompt-0001'): Prompt => ({
  id,
  kind: 'hostKey',
  question: { host: 'cache01', hop: 'imgs', address: '10.0.0.10', port: 22, keyType: 'ssh-ed25519', fingerprint: FINGERPRINT, otherKnown: [], ...patch },
});

const secretPrompt = (remembered: boolean): Prompt => ({
  id: 'prompt-0002',
  kind: 'secret',
  question: { kind: 'password', host: 'rw', prompt: 'Password for root@10.0.0.11', reason: 'The keychain has no password for root@10.0.0.11.', remembered },
});

let unfollow: () => void;

beforeAll(() => {
  // jsdom has <dialog> but not its modal methods.
  HTMLDialogElement.prototype.showModal = function (this: HTMLDialogElement) {
    this.open = true;
  };
  HTMLDialogElement.prototype.close = function (this: HTMLDialogElement) {
    this.open = false;
  };
});

beforeEach(() => {
  fake.reset();
  pendingPrompts.prompts = [];
  fake.answer('prompts.answer', ({ id }) => ({ answered: id }));
  unfollow = pendingPrompts.follow();
});
afterEach(() => unfollow());

const answers = () => fake.api.invoke.mock.calls.filter(([name]) => name === 'prompts.answer').map(([, input]) => input);

describe('host key question', () => {
  it('shows host, jump host, address, key type and fingerprint, with Reject focused', async () => {
    render(PromptDialogs);
    fake.emit('prompt', hostKey());
    const dialog = await screen.findByRole('dialog', { name: 'Trust the host key of imgs?' });
    const facts = Object.fromEntries([...dialog.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]));
    expect(facts).toEqual({ Host: 'cache01', 'Jump host': 'imgs', Address: '10.0.0.10:22', 'Key type': 'ED25519', Fingerprint: FINGERPRINT });
    expect(within(dialog).getByText(FINGERPRINT).classList.contains('mono')).toBe(true);
    expect(dialog.textContent).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Reject' }));
  });

  it('rejects with Enter on the focused button, and with Escape', async () => {
    const user = userEvent.setup();
    render(PromptDialogs);
    fake.emit('prompt', hostKey({}, 'prompt-0001'));
    await screen.findByRole('dialog');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());

    fake.emit('prompt', hostKey({}, 'prompt-0003'));
    await screen.findByRole('dialog');
    await user.keyboard('{Escape}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(answers()).toEqual([
      { id: 'prompt-0001', accept: false },
      { id: 'prompt-0003', accept: false },
    ]);
  });

  it('accepts, then shows the next question in line', async () => {
    const user = userEvent.setup();
    render(PromptDialogs);
    fake.emit('prompt', hostKey({}, 'prompt-0001'));
    fake.emit('prompt', hostKey({ hop: 'cache01', address: '10.0.1.21' }, 'prompt-0003'));
    await user.click(await screen.findByRole('button', { name: 'Accept' }));
    expect(await screen.findByRole('dialog', { name: 'Trust the host key of cache01?' })).toBeTruthy();
    expect(screen.queryByText('Jump host')).toBeNull();
    expect(answers()).toEqual([{ id: 'prompt-0001', accept: true }]);
  });

  it('lists the keys of other types already known for the address', async () => {
    render(PromptDialogs);
    fake.emit('prompt', hostKey({ otherKnown: [{ keyType: 'ssh-rsa', fingerprint: 'SHA256:8XzyWq3p0D1s6RsO1Xkq4A7Gd1sB9cTrmKxV2yE5fLw' }] }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(/Keys of other types are already known/)).toBeTruthy();
    expect(within(dialog).getByRole('listitem').textContent).toBe('RSA SHA256:8XzyWq3p0D1s6RsO1Xkq4A7Gd1sB9cTrmKxV2yE5fLw');
  });

  it('shows a question asked before the window listened, and closes one another window answered', async () => {
    fake.answer('prompts.list', () => [hostKey()]);
    render(PromptDialogs);
    await pendingPrompts.refresh();
    expect(await screen.findByRole('dialog')).toBeTruthy();
    fake.emit('prompt.closed', { id: 'prompt-0001' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(answers()).toEqual([]);
  });

  it('keeps the question open and says why when the answer does not go through', async () => {
    fake.answer('prompts.answer', () => {
      throw new AppError('NOT_FOUND', 'That question was already answered or has timed out.');
    });
    render(PromptDialogs);
    fake.emit('prompt', hostKey());
    await userEvent.setup().click(await screen.findByRole('button', { name: 'Accept' }));
    expect((await screen.findByRole('alert')).textContent).toContain('already answered or has timed out');
    expect(screen.getByRole('dialog')).toBeTruthy();
  });
});

describe('secret question', () => {
  it('sends the secret once and shows it nowhere, not even in the field afterwards', async () => {
    const user = userEvent.setup();
    render(PromptDialogs);
    fake.emit('prompt', secretPrompt(true));
    const dialog = await screen.findByRole('dialog', { name: 'SSH password · rw' });
    expect(dialog.textContent).toContain('The keychain has no password for root@10.0.0.11.');
    expect(dialog.textContent).toContain('A correct answer is saved in the OS keychain');
    const field = within(dialog).getByLabelText<HTMLInputElement>('Password for root@10.0.0.11');
    expect(field.type).toBe('password');
    expect(document.activeElement).toBe(field);

    await user.type(field, 'correct horse battery');
    await user.keyboard('{Enter}');
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(answers()).toEqual([{ id: 'prompt-0002', secret: 'correct horse battery' }]);
    expect(field.value).toBe('');
    expect(document.body.innerHTML).not.toContain('correct horse');
    const otherCalls = fake.api.invoke.mock.calls.filter(([name]) => name !== 'prompts.answer');
    expect(JSON.stringify(otherCalls)).not.toContain('correct horse');
  });

  it('says why a secret will not be remembered, and Cancel declines without a secret', async () => {
    fake.answer('secrets.status', () => ({ backend: 'none', persistent: false, reason: 'No keychain: install gnome-keyring or KWallet.' }));
    const user = userEvent.setup();
    render(PromptDialogs);
    fake.emit('prompt', secretPrompt(false));
    const dialog = await screen.findByRole('dialog');
    await waitFor(() => expect(dialog.textContent).toContain('It will not be remembered: No keychain: install gnome-keyring or KWallet.'));
    await user.type(within(dialog).getByLabelText('Password for root@10.0.0.11'), 'typed then abandoned');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(answers()).toEqual([{ id: 'prompt-0002' }]);
  });
});
