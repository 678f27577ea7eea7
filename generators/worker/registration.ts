import type { HookRegistration } from '../shared/codemod.js';

/** The hook workers are registered in, as Loco's `connect_workers`. */
export const HOOK = 'connectWorkers';

/** The worker to register in the app. */
export interface WorkerRegistration {
  /** The worker class: `ReportWorkerWorker`. */
  className: string;
  /** Its module relative to the app file, without extension: `./workers/report_worker`. */
  modulePath: string;
}

/** How a worker is registered: `queue.register(X.build(ctx))` in `connectWorkers(ctx, queue)`. */
export function workerRegistration(worker: WorkerRegistration): HookRegistration {
  return {
    hook: HOOK,
    parameters: ['ctx', 'queue'],
    kind: 'worker',
    ...worker,
    call: ([ctx, queue]) => `${queue}.register(${worker.className}.build(${ctx}))`,
  };
}
