import { createRequire } from 'node:module';
import type * as TsMorph from 'ts-morph';

/**
 * ts-morph, loaded with `require` when this module is first imported. ts-morph and the copy of
 * TypeScript it bundles are CommonJS: an ESM `import` would have Node scan their 12 MB for export
 * names before loading them, about three times the cost of the load itself. Only the modules
 * that read TypeScript import this one, and `loco-gen` imports those only once a command gets to
 * `src/app.ts`, so `--help` and a refused name never load it.
 *
 * Use it as `ts-morph` itself: `import { Node, Project } from './ts-morph.js'` for the values,
 * `import type { SourceFile } from 'ts-morph'` for the other types.
 */
const tsMorph: typeof TsMorph = createRequire(import.meta.url)('ts-morph');

/** ts-morph's `Node`: the base of every wrapped node, and its type guards (`Node.isBlock`). */
export const Node = tsMorph.Node;
export type Node = TsMorph.Node;

/** ts-morph's `Project`. */
export const Project = tsMorph.Project;
export type Project = TsMorph.Project;

/** The TypeScript compiler API ts-morph bundles (one TypeScript, the one ts-morph was built for). */
export const ts = tsMorph.ts;
