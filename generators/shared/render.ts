import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';

/**
 * Renders one Handlebars template file with `data`, the way node-plop's `add` action does:
 * `{{x}}` is HTML-escaped, `{{{x}}}` is not. loco-gen renders its two or three files with this
 * rather than through node-plop, whose start-up (rxjs, inquirer) would cost more than the rest of the
 * command.
 */
export function renderTemplate(templateFile: string, data: object): string {
  return Handlebars.compile(readFileSync(templateFile, 'utf8'))(data);
}
