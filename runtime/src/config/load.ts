import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseDocument, type YAMLError } from 'yaml';
import { formatBytes } from '../byte-size.js';
import { ConfigError } from '../errors.js';
import { redactPassword } from '../queue/redact.js';
import { FileReadError, readTextFile } from '../read-file.js';
import { readSchedulerSection } from '../scheduler/config.js';
import { renderConfig, type Substitution } from './render.js';
import { type LocoConfig, validateConfig } from './schema.js';

/** Largest config file read: a config is a few KiB, and anything else (`/dev/zero`) must not fill the memory. */
export const CONFIG_MAX_BYTES = 1024 * 1024;

/** The environment name: `LOCO_ENV`, then `NODE_ENV`, then `development`. */
export function resolveEnvironment(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  return explicit || env.LOCO_ENV || env.NODE_ENV || 'development';
}

/** Options of `loadConfig`. */
export interface LoadConfigOptions {
  /** The environment; default from `resolveEnvironment()`. */
  environment?: string;
  /** The app's root folder, holding `config/`. (Default: the current directory) */
  root?: string;
  /** Variables for `get_env`. (Default: `process.env`) */
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads `config/<env>.yaml` (or `config/<env>.local.yaml` where it exists, which wins),
 * renders `{{ get_env(...) }}`, parses the YAML and validates it.
 */
export function loadConfig(options: LoadConfigOptions = {}): LocoConfig & { environment: string } {
  const environment = resolveEnvironment(options.environment, options.env);
  const folder = path.join(options.root ?? process.cwd(), 'config');
  const local = path.join(folder, `${environment}.local.yaml`);
  const main = path.join(folder, `${environment}.yaml`);
  const file = existsSync(local) ? local : main;
  if (!existsSync(file)) {
    const found = existsSync(folder)
      ? readdirSync(folder)
          .filter((name) => name.endsWith('.yaml'))
          .map((name) => name.replace(/(\.local)?\.yaml$/, ''))
      : [];
    throw new ConfigError(
      main,
      '',
      `no config file for environment '${environment}'. ` +
        (found.length
          ? `Environments with a config: ${[...new Set(found)].join(', ')}; pick one with -e/--environment or LOCO_ENV.`
          : `Create ${path.relative(process.cwd(), main) || main}, or run the command from the app's root folder.`),
    );
  }
  const { text, substitutions } = renderConfig(readConfigFile(file), file, options.env);
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) throw yamlError(document.errors[0], file, substitutions);
  try {
    const config = validateConfig(document.toJS(), file);
    // The scheduler: section is checked here too, so that a bad schedule stops every boot, not only the scheduler's.
    readSchedulerSection(config.extra.scheduler, file, 'scheduler');
    return { ...config, environment };
  } catch (err) {
    if (err instanceof ConfigError) err.message = hideEnvValues(err.message, substitutions);
    throw err;
  }
}

/**
 * The YAML error as a `ConfigError`. Where the line in error holds the value of an environment
 * variable, the message names the variable and leaves out the line (and the error it came from),
 * which would show the value: typically a URI with its password.
 */
function yamlError(error: YAMLError, file: string, substitutions: Substitution[]): ConfigError {
  const line = error.linePos?.[0].line;
  const names = [
    ...new Set(
      substitutions
        .filter((s) => s.fromEnv && line !== undefined && s.firstLine <= line && line <= s.lastLine)
        .map((s) => s.name),
    ),
  ];
  if (names.length === 0) return new ConfigError(file, '', `is not valid YAML: ${error.message}`, { cause: error });
  const summary = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const variables = names.length === 1 ? `the value of ${names[0]}` : `the values of ${names.join(', ')}`;
  return new ConfigError(
    file,
    `line ${line}`,
    `is not valid YAML once ${variables} ${names.length === 1 ? 'is' : 'are'} filled in (${summary}); the value is not shown here. Check it for ` +
      'characters YAML reads on their own: a " or \\ inside double quotes, ": " or " #" outside quotes.',
  );
}

/** `message` with every value taken from the environment, as errors quote it, replaced by the variable's name. */
function hideEnvValues(message: string, substitutions: Substitution[]): string {
  let hidden = message;
  const fromEnv = substitutions.filter((s) => s.fromEnv && s.value.trim() !== '');
  for (const { name, value } of fromEnv.sort((a, b) => b.value.length - a.value.length)) {
    for (const shown of new Set([value, value.trim(), redactPassword(value)])) {
      for (const quote of ["'", '"']) {
        hidden = hidden.split(`${quote}${shown}${quote}`).join(`(the value of ${name})`);
      }
    }
  }
  return hidden;
}

/** The config file's text, or a `ConfigError` naming the file and saying what it is instead. */
function readConfigFile(file: string): string {
  try {
    return readTextFile(file, CONFIG_MAX_BYTES);
  } catch (err) {
    if (!(err instanceof FileReadError)) throw err;
    const fix =
      err.kind === 'unreadable'
        ? 'Give the user running loco read access to it.'
        : `A config file is a YAML file of at most ${formatBytes(CONFIG_MAX_BYTES)}; put one there.`;
    throw new ConfigError(file, '', `cannot be read: ${err.reason}. ${fix}`, { cause: err });
  }
}
