import { main } from './cli/run.ts';

void main(process.argv.slice(2));
