import { z } from 'zod';

/**
 * zod probes for eval with `new Function` when it builds an object schema, and under the CSP the
 * probe is reported as a violation even though zod catches it. Imported first by main.ts, so
 * this runs before any module builds a schema.
 */
z.config({ jitless: true });
