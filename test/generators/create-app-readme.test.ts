import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { init } from '../../generators/create-app/index.js';
import type { VendorPackage } from '../../generators/create-app/vendor.js';
import { jobsCommand } from '../../runtime/src/cli/jobs/index.js';
import { schedulerCommand } from '../../runtime/src/cli/scheduler.js';
import { readSchedulerSection } from '../../runtime/src/scheduler/config.js';

/** The README create-loco-app writes for these flags (no npm pack, install or git). */
async function readme(flags: string[]): Promise<string> {
  const cwd = mkdtempSync(path.join(tmpdir(), 'create-loco-app-readme-'));
  const lines: string[] = [];
  const pack = async (packages: VendorPackage[], vendorDir: string) => {
    mkdirSync(vendorDir, { recursive: true });
    for (const pkg of packages) writeFileSync(path.join(vendorDir, pkg.tarball), '');
  };
  try {
    const code = await init(['my-app', ...flags, '--yes', '--no-install', '--no-git'], {
      cwd,
      interactive: false,
      log: (line) => lines.push(line),
      error: (line) => lines.push(line),
      pack,
    });
    assert.is(code, 0, lines.join('\n'));
    return readFileSync(path.join(cwd, 'my-app/README.md'), 'utf8');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** The lines of `text` that start with `prefix`. */
const linesOf = (text: string, prefix: string) => text.split('\n').filter((line) => line.startsWith(prefix));

const MODES = [
  { flags: [], queue: true },
  { flags: ['--queue', 'postgres'], queue: true },
  { flags: ['--queue', 'redis'], queue: true },
  { flags: ['--bg', 'async'], queue: false },
  { flags: ['--bg', 'blocking'], queue: false },
];

for (const { flags, queue } of MODES) {
  const name = flags.join(' ') || 'the defaults';

  test(`README (${name}): every loco jobs subcommand and each of its options, one line each`, async () => {
    const text = await readme(flags);
    for (const sub of jobsCommand().commands) {
      const lines = linesOf(text, `npx loco jobs ${sub.name()} `);
      assert.ok(lines.length > 0, `no line starts with "npx loco jobs ${sub.name()}"`);
      for (const option of sub.options) {
        assert.ok(
          lines.some((line) => line.includes(`${option.long} `) || line.includes(`${option.long}]`)),
          `loco jobs ${sub.name()} ${option.long} is not shown on a line of its own: ${lines.join(' | ')}`,
        );
      }
    }
  });

  test(`README (${name}): the scheduler's options, its example config reads, and what --all runs`, async () => {
    const text = await readme(flags);
    const lines = linesOf(text, 'npx loco scheduler ');
    for (const option of schedulerCommand().options) {
      assert.ok(
        lines.some((line) => line.includes(`${option.long} `) || (option.short && line.includes(`${option.short} `))),
        `loco scheduler ${option.long} is not shown: ${lines.join(' | ')}`,
      );
    }
    assert.match(text, 'SCHEDULER_CONFIG=config/scheduler.yaml npx loco start --all');
    assert.match(text, 'npx loco-gen scheduler');
    const example = /```yaml\n# config\/scheduler\.yaml\n([\s\S]*?)```/.exec(text);
    assert.ok(example, 'no config/scheduler.yaml example');
    const jobs = readSchedulerSection(parse(example[1]), 'README.md', '');
    assert.equal(
      jobs.map((job) => job.name),
      ['write_content', 'send_report', 'nightly_download'],
    );
    if (queue) {
      assert.match(text, '# the server, a worker and the scheduler');
      assert.match(text, 'Each time runs once, whatever the number of scheduler processes');
    } else {
      assert.match(text, '# the server and the scheduler');
      assert.match(text, 'run a single one');
    }
  });

  test(`README (${name}): the store URIs with their options, and no Handlebars left`, async () => {
    const text = await readme(flags);
    for (const uri of ['sqlite://', '?mode=rwc', '?schema=', '?prefix=', 'redis+cluster://', 'rediss://']) {
      assert.match(text, uri);
    }
    for (const line of text.split('\n').filter((l) => l.includes('{{') || l.includes('}}'))) {
      assert.match(line, /"\{\{ get_env\(name="[A-Z_]+", default="[^"]*"\) \}\}"/, line);
    }
  });
}

test.run();
