import { InProcessBackend, type QueueBackend } from '../../runtime/src/index.js';
import { runContract } from './contract.js';

const reason = 'the in-process queue lives in one process only; other processes and connections cannot reach it';

runContract({
  name: 'in-process (BackgroundAsync)',
  async open(): Promise<QueueBackend> {
    const backend = new InProcessBackend();
    await backend.init({ flush: false });
    return backend;
  },
  openAnother() {
    throw new Error(reason);
  },
  queueConfig() {
    throw new Error(reason);
  },
  async cleanup() {},
  skip: {
    'lease after SIGKILL': `${reason}: a killed process takes its jobs with it`,
    'atomic claim across connections': reason,
    'visible across connections': reason,
  },
});
