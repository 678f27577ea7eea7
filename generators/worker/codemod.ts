import { addToHook, type CodemodResult } from '../shared/codemod.js';
import { type WorkerRegistration, workerRegistration } from './registration.js';

export { CodemodError, type CodemodResult, type Insertion } from '../shared/codemod.js';
export { HOOK, type WorkerRegistration, workerRegistration } from './registration.js';

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
