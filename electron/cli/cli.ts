// electron/cli/: the command-line door (`icbd`), plain Node, around the core.
import { main } from './run.ts';

void main(process.argv.slice(2));
