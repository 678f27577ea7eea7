import { addToHook, type CodemodResult, type HookRegistration } from '../shared/codemod.js';

export { CodemodError, type CodemodResult, type Insertion } from '../shared/codemod.js';

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

/**
 * Adds `import { X } from './workers/x.js'` after the last import and `queue.register(X.build(ctx))`
 * inside `connectWorkers`, after the registrations already there, in the file's own style. Adds
 * only what is missing; see `addToHook`.
 *
 * @param source the text of the app file
 * @param file the file's path, for messages
 * @throws CodemodError when there is no single `connectWorkers` of a shape it can edit
 */
export function addWorkerToApp(source: string, file: string, worker: WorkerRegistration): CodemodResult {
  return addToHook(source, file, workerRegistration(worker));
}
