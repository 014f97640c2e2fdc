// `node dist/bench/startup-run.js`: only the start-up comparison of `npm run bench` (native,
// Microkit 2.0.1, Microkit 2.3.0, interleaved), for a quicker look at boot times.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchStartup } from './startup.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
await benchStartup(root);
