#!/usr/bin/env node
import { Command } from 'commander';
import pc from 'picocolors';
import { LocoError } from '../errors.js';
import { jobsCommand } from './jobs/index.js';
import { schedulerCommand } from './scheduler.js';
import { startCommand } from './start.js';
import { taskCommand } from './task.js';

const program = new Command('loco')
  .description('Run a loco-ts app: its server, its workers, its scheduler and its job queue')
  .showHelpAfterError()
  .addCommand(jobsCommand())
  .addCommand(schedulerCommand())
  .addCommand(startCommand())
  .addCommand(taskCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  if ((err instanceof LocoError || err instanceof RangeError) && !process.env.LOCO_DEBUG) {
    console.error(pc.red(`error: ${(err as Error).message}`));
  } else {
    console.error(err);
  }
  process.exit(1);
});
