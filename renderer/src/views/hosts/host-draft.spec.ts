import { describe, expect, it } from 'vitest';
import type { Host } from '../../../../shared/inventory.ts';
import { checkDraft, draftOf } from './host-draft.ts';

const imgs: Host = { name: 'imgs', address: '10.0.0.10', port: 22, user: 'root', role: 'imgs' };
const cache01: Host = { name: 'cache01', address: '10.0.0.21', port: 22, user: 'root', role: 'cache', jump: 'imgs' };

describe('checkDraft', () => {
  it('applies the schema’s defaults to empty port and user and drops empty optional fields', () => {
    const draft = { ...draftOf(), name: ' rw ', role: 'rw' as const, address: '10.0.0.11', notes: '  ' };
    expect(checkDraft(draft, [imgs])).toEqual({ host: { name: 'rw', role: 'rw', address: '10.0.0.11', port: 22, user: 'root' } });
  });

  it('gives the core’s message for each wrong field', () => {
    const { errors } = checkDraft({ ...draftOf(), name: 'Bad Name!', port: 70000 }, []);
    expect(errors).toEqual({
      name: 'A host name is lowercase letters, digits and "-", starts with a letter and does not end with "-" (e.g. cache01).',
      address: 'An address is required.',
      port: 'The port is between 1 and 65535.',
      role: 'The role is one of imgs, rw, home, cache.',
    });
  });

  it('applies the inventory-wide rules against the other hosts', () => {
    expect(checkDraft({ ...draftOf(imgs) }, [imgs]).errors).toEqual({ name: 'There is already a host named imgs.' });
    expect(checkDraft({ ...draftOf(imgs), jump: 'cache01' }, [cache01]).errors).toEqual({
      jump: 'The jump chain of imgs loops back through imgs.',
    });
  });
});
