// The fixture-driven codemod tests, run once per hook (connectWorkers, registerTasks) over its
// own folder of fixtures, as the backend contract suite is run once per backend.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppEditError, CodemodError, type CodemodResult } from '../../generators/shared/codemod.js';

/** What the suite needs to know about one hook's codemod. */
export interface CodemodFixtures {
  /** The fixture folder: one folder per case. */
  folder: string;
  /** Runs the codemod on an app file's text, as `src/app.ts`. */
  add(source: string): CodemodResult;
  /** The class it registers: `ReportWorkerWorker`. */
  className: string;
  /** Text each registration of the class holds once: `ReportWorkerWorker.build(`. */
  registered: string;
}

/** Counts the times `part` occurs in `text`. */
export function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

/**
 * Registers a test per fixture. Each fixture folder holds input.ts.txt and one of:
 * expected.ts.txt (the whole file after the codemod, which a second run leaves as it is),
 * error.txt (the whole message of the CodemodError it throws, ending with the lines to paste), or
 * refused.txt (the whole message of an error without lines to paste: a syntax error, a clash).
 */
export function codemodFixtureTests({ folder, add, className, registered }: CodemodFixtures): void {
  const read = (name: string, file: string) => readFileSync(path.join(folder, name, file), 'utf8');
  for (const name of readdirSync(folder).filter((entry) => existsSync(path.join(folder, entry, 'input.ts.txt')))) {
    const input = read(name, 'input.ts.txt');
    const has = (file: string) => existsSync(path.join(folder, name, file));

    if (has('expected.ts.txt')) {
      const expected = read(name, 'expected.ts.txt');

      test(`${name}: adds the import and the registration, nothing else`, () => {
        const result = add(input);
        assert.fixture(result.text, expected);
        assert.equal(
          result.insertions.map((insertion) => insertion.what),
          ['import', 'register'],
        );
      });

      test(`${name}: applied twice gives one import and one call`, () => {
        const once = add(input).text;
        const twice = add(once);
        assert.is(twice.text, once);
        assert.equal(twice.insertions, []);
        assert.is(count(twice.text, `import { ${className} }`), 1);
        assert.is(count(twice.text, registered), 1);
      });
    } else if (has('error.txt')) {
      const expected = read(name, 'error.txt').trimEnd();

      test(`${name}: refuses, naming the file and the construct, with the lines to paste`, () => {
        const caught = thrownBy(() => add(input));
        assert.instance(caught, CodemodError);
        assert.fixture((caught as CodemodError).message, expected);
        const [importLine, registerLine] = (caught as CodemodError).pasteLines;
        assert.ok(expected.includes(`    ${importLine}\n`));
        assert.ok(expected.endsWith(`    ${registerLine}`));
      });
    } else {
      const expected = read(name, 'refused.txt').trimEnd();

      test(`${name}: refuses to edit the file, naming the line and the problem`, () => {
        const caught = thrownBy(() => add(input));
        assert.instance(caught, AppEditError);
        assert.not.instance(caught, CodemodError);
        assert.fixture((caught as Error).message, expected);
      });
    }
  }
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}
