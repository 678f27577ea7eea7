#!/usr/bin/env node
import pc from 'picocolors';
import { init } from '../create-app/index.js';

init(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(pc.red(error instanceof Error ? error.message : String(error)));
    process.exitCode = 1;
  },
);
