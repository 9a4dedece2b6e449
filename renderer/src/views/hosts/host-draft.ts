import { host, inventoryProblems, type Host, type Role } from '../../../../shared/inventory.ts';

export const HOST_FIELDS = ['name', 'role', 'address', 'port', 'user', 'jump', 'identityFile', 'notes'] as const satisfies readonly (keyof Host)[];
export type HostField = (typeof HOST_FIELDS)[number];
export type FieldMessages = Partial<Record<HostField, string>>;

/** The form's values as typed: empty text means "not set", and the schema's defaults apply. */
export interface HostDraft {
  name: string;
  role: Role | '';
  address: string;
  port: number | null;
  user: string;
  jump: string;
  identityFile: string;
  notes: string;
}

export function draftOf(existing?: Host): HostDraft {
  return {
    name: existing?.name ?? '',
    role: existing?.role ?? '',
    address: existing?.address ?? '',
    port: existing?.port ?? null,
    user: existing?.user ?? '',
    jump: existing?.jump ?? '',
    identityFile: existing?.identityFile ?? '',
    notes: existing?.notes ?? '',
  };
}

const unlessEmpty = (text: string) => text.trim() || undefined;

/**
 * Checks the draft with the very rules the core applies (the shared zod schema, then the
 * inventory-wide rules against the other hosts), so the messages are the core's own.
 */
export function checkDraft(draft: HostDraft, others: readonly Host[]): { host: Host; errors?: undefined } | { errors: FieldMessages } {
  const parsed = host.safeParse({
    name: draft.name.trim(),
    role: draft.role || undefined,
    address: draft.address.trim(),
    port: draft.port ?? undefined,
    user: unlessEmpty(draft.user),
    jump: unlessEmpty(draft.jump),
    identityFile: unlessEmpty(draft.identityFile),
    notes: unlessEmpty(draft.notes),
  });
  const errors: FieldMessages = {};
  const put = (field: PropertyKey | undefined, message: string) => {
    if (HOST_FIELDS.includes(field as HostField)) errors[field as HostField] ??= message;
  };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) put(issue.path[0], issue.message);
    return { errors };
  }
  for (const problem of inventoryProblems([...others, parsed.data]))
    if (problem.host === parsed.data.name) put(problem.field, problem.message);
  return Object.keys(errors).length ? { errors } : { host: parsed.data };
}
