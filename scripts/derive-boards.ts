// `npm run boards`: writes boards/<name>.json for every shipped board from its overrides, its
// device tree and seL4's platform row (src/compile/boards/shipped.ts). Needs the Debian DTBs in
// .cache/guest/dtbs/ (npm run guest) and qemu-system-aarch64 for the QEMU boards.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../src/compile/package.js';
import { boardFileText, deriveShipped, shippedBoardNames } from '../src/compile/boards/shipped.js';

let failed = false;
for (const name of process.argv.slice(2).length ? process.argv.slice(2) : shippedBoardNames()) {
  const derived = deriveShipped(name);
  if (typeof derived === 'string') {
    process.stderr.write(`${name}: ${derived}\n`);
    failed = true;
    continue;
  }
  for (const m of derived.missing) process.stderr.write(`${name}: ${m.fact} not derived: ${m.add}\n`);
  writeFileSync(path.join(packageRoot(), 'boards', `${name}.json`), boardFileText(derived.json));
  process.stdout.write(`boards/${name}.json\n`);
}
process.exitCode = failed ? 1 : 0;
