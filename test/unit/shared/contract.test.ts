import { describe, expect, it } from 'vitest';
import { createClient, type Transport } from '../../../shared/client.ts';
import { EVENT_NAMES, REQUEST_NAMES, events, isEventName, isRequestName, requests } from '../../../shared/contract.ts';
import { AppError, fromWire, toWire } from '../../../shared/errors.ts';
import { Core } from '../../../electron/core/core.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('contract', () => {
  it('declares an input and output schema for every request and a schema for every event', () => {
    for (const name of REQUEST_NAMES) {
      expect(requests[name].input.safeParse, name).toBeTypeOf('function');
      expect(requests[name].output.safeParse, name).toBeTypeOf('function');
      expect(requests[name].doc.length, name).toBeGreaterThan(10);
    }
    for (const name of EVENT_NAMES) expect(events[name].safeParse, name).toBeTypeOf('function');
  });

  it('knows its own names and nothing else, including inherited keys', () => {
    expect(isRequestName('hosts.list')).toBe(true);
    expect(isRequestName('toString')).toBe(false);
    expect(isRequestName('__proto__')).toBe(false);
    expect(isRequestName(42)).toBe(false);
    expect(isEventName('hosts.changed')).toBe(true);
    expect(isEventName('constructor')).toBe(false);
  });

  it('rejects bad host input with a message per field', () => {
    const bad = requests['hosts.add'].input.safeParse({ name: 'Bad Name!', address: 'a b', role: 'db', port: 70000, user: 'Root' });
    expect(bad.success).toBe(false);
    const fields = new Set(bad.error!.issues.map((i) => i.path[0]));
    expect(fields).toEqual(new Set(['name', 'address', 'role', 'port', 'user']));
  });

  it('refuses extra keys where the input is closed', () => {
    expect(requests['hosts.remove'].input.safeParse({ name: 'imgs', force: true }).success).toBe(false);
  });
});

describe('errors across the boundary', () => {
  it('survive a JSON round trip with code, message and detail', () => {
    const original = new AppError('CONFLICT', 'There is already a host named imgs.', { field: 'name' });
    const rebuilt = fromWire(JSON.parse(JSON.stringify(toWire(original))));
    expect(rebuilt).toBeInstanceOf(AppError);
    expect(rebuilt.code).toBe('CONFLICT');
    expect(rebuilt.message).toBe(original.message);
    expect(rebuilt.detail).toEqual({ field: 'name' });
  });

  it('turns a foreign exception into INTERNAL with its message', () => {
    expect(toWire(new TypeError('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
  });

  it('are thrown by the client as AppError, through the core and a JSON transport', async () => {
    const core = new Core({ home: mkdtempSync(join(tmpdir(), 'icbd-contract-')), door: 'cli' });
    const transport: Transport = {
      invoke: async (name, input) => JSON.parse(JSON.stringify(await core.dispatch(name, JSON.parse(JSON.stringify(input))))),
      subscribe: (name, listener) => core.on(name, listener),
    };
    const client = createClient(transport);
    await client.invoke('hosts.add', { name: 'imgs', address: '10.0.0.1', role: 'imgs' });
    const err = await client.invoke('hosts.add', { name: 'imgs', address: '10.0.0.2', role: 'imgs' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('CONFLICT');
    const invalid = await client.invoke('hosts.remove', { name: '../etc' }).catch((e: unknown) => e);
    expect((invalid as AppError).code).toBe('INVALID_INPUT');
    expect((invalid as AppError).message).toMatch(/^name: A host name is lowercase/);
  });

  it('the core refuses a request name outside the contract', async () => {
    const core = new Core({ home: mkdtempSync(join(tmpdir(), 'icbd-contract-')), door: 'cli' });
    expect(await core.dispatch('fs.readFile', { path: '/etc/shadow' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });
});
