import path from 'node:path';
import { type ClassGenerator, type GenerateOptions, generate } from '../shared/generate.js';
import { templatesDir } from '../shared/paths.js';
import { type WorkerNames, workerNames } from './names.js';
import { workerRegistration } from './registration.js';

export { APP_FILE } from '../shared/generate.js';

/** Options of `loco-gen worker`. */
export type WorkerGeneratorOptions = GenerateOptions;

/** Workers: `src/workers/<name>.ts`, its test, and `queue.register(X.build(ctx))` in `connectWorkers`. */
export const WORKER_GENERATOR: ClassGenerator<WorkerNames> = {
  kind: 'worker',
  folder: 'workers',
  suffix: 'Worker',
  names: workerNames,
  templates: (folder) => ({
    source: path.join(folder, 'worker.ts.hbs'),
    test: path.join(folder, 'worker.test.ts.hbs'),
  }),
  registration: (names) =>
    workerRegistration({ className: names.className, modulePath: `./workers/${names.fileName}` }),
  hookDeclaration:
    "async connectWorkers(ctx: AppContext, queue: Queue) {} in the App, with both types imported from 'loco-runtime'",
};

/**
 * `loco-gen worker <name>`: writes `src/workers/<name>.ts` and `tests/workers/<name>.test.ts`
 * and registers the worker in `src/app.ts`, all or nothing (see `generate`). Returns the exit
 * code: 0 when done (or nothing to do), 1 when refused, with the reason and what to do.
 */
export function generateWorker(name: string, options: WorkerGeneratorOptions = {}): Promise<number> {
  return generate(WORKER_GENERATOR, name, options.templates ?? templatesDir('worker'), options);
}
