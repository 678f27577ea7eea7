import { ConfigError } from '../errors.js';

const EXPRESSION = /\{\{\s*([\s\S]*?)\s*\}\}/g;
const CALL = /^([A-Za-z_][A-Za-z0-9_]*)\s*\(([\s\S]*)\)$/;
const ARGUMENT =
  /\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?\d+(?:\.\d+)?|true|false)\s*(?:,|$)/y;

/** One `{{ get_env(...) }}` filled in: which variable, where its value landed, and whether it came from the environment. */
export interface Substitution {
  /** The variable's name. */
  name: string;
  /** The text put in place of the expression. */
  value: string;
  /** True when the value came from the environment, false when it is the expression's default. */
  fromEnv: boolean;
  /** The lines of the rendered text the value spans (1-based, inclusive). */
  firstLine: number;
  lastLine: number;
}

/**
 * Renders the template expressions of a config file, as Loco does with Tera before parsing YAML.
 * Supported: `{{ get_env(name="X") }}` and `{{ get_env(name="X", default="y") }}`.
 *
 * @param text the raw file text
 * @param file the file's path, for error messages
 * @param env the environment to read (default `process.env`)
 */
export function renderConfigTemplate(text: string, file: string, env: NodeJS.ProcessEnv = process.env): string {
  return renderConfig(text, file, env).text;
}

/**
 * `renderConfigTemplate`, also saying what each expression became and where, so that an error
 * about the rendered text can name the variable instead of showing its value (often a secret).
 */
export function renderConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): { text: string; substitutions: Substitution[] } {
  const substitutions: Substitution[] = [];
  let rendered = '';
  let renderedLines = 1;
  let last = 0;
  for (const match of text.matchAll(EXPRESSION)) {
    const [whole, expression] = match;
    const offset = match.index ?? 0;
    const before = text.slice(last, offset);
    rendered += before;
    renderedLines += countLines(before);
    const { name, value, fromEnv } = evaluate(
      whole,
      expression,
      file,
      `line ${text.slice(0, offset).split('\n').length}`,
      env,
    );
    substitutions.push({ name, value, fromEnv, firstLine: renderedLines, lastLine: renderedLines + countLines(value) });
    rendered += value;
    renderedLines += countLines(value);
    last = offset + whole.length;
  }
  return { text: rendered + text.slice(last), substitutions };
}

function countLines(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

/** The value of one template expression. */
function evaluate(
  whole: string,
  expression: string,
  file: string,
  where: string,
  env: NodeJS.ProcessEnv,
): { name: string; value: string; fromEnv: boolean } {
  const call = CALL.exec(expression);
  if (!call) {
    throw new ConfigError(
      file,
      where,
      `cannot read the template expression ${whole}; the only one supported is ` +
        `{{ get_env(name="VAR", default="value") }}.`,
    );
  }
  const [, fn, argText] = call;
  if (fn !== 'get_env') {
    throw new ConfigError(
      file,
      where,
      `unknown template function '${fn}' in ${whole}; the only function supported is get_env, ` +
        `as in {{ get_env(name="VAR", default="value") }}.`,
    );
  }
  const args = parseArguments(argText, file, where, whole);
  const name = args.get('name');
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(file, where, `get_env needs name="VAR" in ${whole}.`);
  }
  for (const key of args.keys()) {
    if (key !== 'name' && key !== 'default') {
      throw new ConfigError(file, where, `get_env takes only name= and default=, found ${key}= in ${whole}.`);
    }
  }
  const value = env[name];
  if (value !== undefined) return { name, value, fromEnv: true };
  if (args.has('default')) return { name, value: String(args.get('default')), fromEnv: false };
  throw new ConfigError(
    file,
    where,
    `environment variable ${name} is not set and ${whole} gives no default; ` +
      `set ${name} or add default="..." to the expression.`,
  );
}

function parseArguments(
  text: string,
  file: string,
  where: string,
  whole: string,
): Map<string, string | number | boolean> {
  const args = new Map<string, string | number | boolean>();
  ARGUMENT.lastIndex = 0;
  let position = 0;
  while (position < text.trim().length || position < text.length) {
    if (text.slice(position).trim() === '') break;
    ARGUMENT.lastIndex = position;
    const match = ARGUMENT.exec(text);
    if (!match) {
      throw new ConfigError(
        file,
        where,
        `cannot read the arguments of ${whole}; write them as name="VAR", default="value".`,
      );
    }
    const [, key, raw] = match;
    args.set(key, literal(raw));
    position = ARGUMENT.lastIndex;
  }
  return args;
}

function literal(raw: string): string | number | boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw.startsWith('"') || raw.startsWith("'")) {
    return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return Number(raw);
}
