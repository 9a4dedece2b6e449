import { z } from 'zod';
import { hostKeyQuestion, SECRET_KINDS } from './ssh.ts';

/**
 * Questions the core asks the operator in the middle of an operation (an unknown host key, a
 * password the keychain does not have). They go out as events and come back as prompts.answer;
 * a question nobody answers in PROMPT_TIMEOUT_MS counts as "no", so nothing waits forever.
 */
export const PROMPT_TIMEOUT_MS = 180_000;

export const promptId = z.string().regex(/^[a-z0-9-]{8,64}$/);

export const hostKeyPrompt = z.object({ id: promptId, kind: z.literal('hostKey'), question: hostKeyQuestion });
export const secretPrompt = z.object({
  id: promptId,
  kind: z.literal('secret'),
  question: z.object({
    kind: z.enum(SECRET_KINDS),
    host: z.string(),
    prompt: z.string(),
    reason: z.string(),
    remembered: z.boolean(),
  }),
});
export const prompt = z.discriminatedUnion('kind', [hostKeyPrompt, secretPrompt]);
export type Prompt = z.infer<typeof prompt>;

export const promptAnswer = z
  .object({
    id: promptId,
    /** Host keys: accept or reject. */
    accept: z.boolean().optional(),
    /** Secrets: the value, or absent to decline. Never logged, never echoed in an event. */
    secret: z.string().max(4096).optional(),
  })
  .strict();
