import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/errors.ts';
import { explain, fieldErrors } from './errors.ts';

const FIELDS = ['name', 'address', 'port'] as const;

describe('explain', () => {
  it('keeps the core’s words and adds a next step where the message has none', () => {
    expect(explain(new AppError('UNAVAILABLE', 'Lost the connection to icbd serve; is it still running?'))).toEqual({
      message: 'Lost the connection to icbd serve; is it still running?',
      next: 'The console reconnects by itself; try again in a moment.',
    });
    expect(explain(new AppError('CONFLICT', 'There is already a host named rw.'))).toEqual({ message: 'There is already a host named rw.' });
  });

  it('adds nothing to a refused host key: the core’s message says what to do, and a guess would mislead', () => {
    const changed = 'The host key of imgs (10.0.0.10:22) has CHANGED: … remove the old key with `ssh-keygen -R`, and connect again.';
    expect(explain(new AppError('UNAUTHORIZED', changed, { reason: 'host-key-changed' }))).toEqual({ message: changed });
  });

  it('words a failure of the window itself, with what to do', () => {
    const explained = explain(new TypeError('x is undefined'));
    expect(explained.message).toBe('Something unexpected went wrong in the window: x is undefined');
    expect(explained.next).toMatch(/Reload the window/);
  });
});

describe('fieldErrors', () => {
  it('maps the core’s zod issues onto fields, first message per field, without the input’s prefix', () => {
    const err = new AppError('INVALID_INPUT', '…', {
      issues: [
        { path: 'host.name', message: 'A host name is required.' },
        { path: 'host.name', message: 'second' },
        { path: 'host.port', message: 'The port is between 1 and 65535.' },
        { path: 'host.colour', message: 'not a field of the form' },
      ],
    });
    expect(fieldErrors(err, FIELDS, 'host.')).toEqual({ name: 'A host name is required.', port: 'The port is between 1 and 65535.' });
  });

  it('maps detail.field with the error’s message', () => {
    expect(fieldErrors(new AppError('CONFLICT', 'There is already a host named rw.', { field: 'name' }), FIELDS)).toEqual({
      name: 'There is already a host named rw.',
    });
  });

  it('maps nothing from errors without a field, so the caller shows a banner', () => {
    expect(fieldErrors(new AppError('UNAVAILABLE', 'gone'), FIELDS)).toEqual({});
    expect(fieldErrors(new AppError('INVALID_INPUT', 'odd', { issues: [{ path: '', message: 'odd' }] }), FIELDS)).toEqual({});
    expect(fieldErrors(new Error('plain'), FIELDS)).toEqual({});
  });
});
