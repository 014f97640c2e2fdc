#!/usr/bin/env node
// The sel4cp-synth command (package.json "bin"): the command line of app.ts, exit code and all.
import { hideBin } from 'yargs/helpers';
import { main } from './app.js';

process.exitCode = await main(hideBin(process.argv));
