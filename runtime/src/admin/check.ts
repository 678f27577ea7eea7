import type { AppContext } from '../context.js';
import { LocoError } from '../errors.js';

/** Throws, before anything starts, when the dashboard is on without a token or without a store to show. */
export function checkAdminConfig(ctx: AppContext): void {
  const { admin, file } = ctx.config;
  if (!admin.enabled) return;
  if (admin.token === '') {
    throw new LocoError(
      `${file}: admin.enabled is true but admin.token is empty, so anyone could use the jobs dashboard. ` +
        'Set the LOCO_ADMIN_TOKEN environment variable to a long random secret (for example the output of ' +
        '`openssl rand -hex 32`), with admin.token: "{{ get_env(name="LOCO_ADMIN_TOKEN", default="") }}" in the config, ' +
        'or set admin.enabled: false.',
    );
  }
  if (!ctx.queue.backend) {
    throw new LocoError(
      `${file}: admin.enabled is true, but workers.mode is ${ctx.queue.mode}, which runs jobs inline and keeps none to show. ` +
        'The dashboard needs workers.mode: BackgroundQueue (or BackgroundAsync); or set admin.enabled: false.',
    );
  }
}
