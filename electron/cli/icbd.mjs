#!/usr/bin/env node
// The `icbd` command: runs the TypeScript CLI door directly (tsx), so it never lags behind the source.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
