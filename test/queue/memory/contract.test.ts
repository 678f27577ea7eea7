// The backend contract on the in-process store of BackgroundAsync (the cases that need a second
// process or connection are skipped: the store lives in one process).
import { InProcessBackend, type QueueBackend } from '../../../runtime/src/internals.js';
import { runContract } from '../contract.js';

const unreachable = (): never => {
  throw new Error('the in-process store cannot be reached from another connection or process');
};

runContract({
  name: 'in-process (BackgroundAsync)',
  async open(): Promise<QueueBackend> {
    const backend = new InProcessBackend();
    await backend.init({ flush: false });
    return backend;
  },
  openAnother: unreachable,
  queueConfig: unreachable,
  async cleanup() {},
});
