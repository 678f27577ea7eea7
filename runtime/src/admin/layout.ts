/** The dashboard's page frame, its forms and its small formatting helpers. */
import { Html, type HtmlValue, html } from './html.js';

/** What every view needs to build links and forms. */
export interface ViewContext {
  /** The dashboard's path (`admin.path`). */
  base: string;
  /** The CSRF token every POST form carries. */
  csrf: string;
  appName: string;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2430;background:#f5f6f8}
header{background:#1d2430;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}header .app{opacity:.7}
header form{margin-left:auto}
main{padding:16px 20px;max-width:1280px}
h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border-bottom:1px solid #e3e6eb;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.actions{white-space:nowrap}
.cards{display:flex;gap:10px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:8px 14px;min-width:110px;color:inherit;text-decoration:none}
.card b{display:block;font-size:22px}
.status{border-radius:4px;padding:1px 6px;font-size:12px;background:#e3e6eb}
.status-failed{background:#fbd5d5}.status-completed{background:#d3f2dc}.status-processing{background:#d6e6fb}
.status-queued{background:#fdf1c7}.status-cancelled{background:#e6e0f3}
form.inline{display:inline}
button{cursor:pointer;font:inherit;padding:2px 8px}
.filters{display:flex;gap:8px;align-items:end;margin:8px 0}
.filters label{display:flex;flex-direction:column;font-size:12px}
pre{background:#fff;border:1px solid #e3e6eb;padding:8px;overflow:auto;white-space:pre-wrap;word-break:break-word}
.notice{background:#d3f2dc;padding:6px 10px;border-radius:4px}
.muted{color:#6b7280}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;padding:10px;border:1px solid #e3e6eb}
dt{font-weight:600}dd{margin:0}
`;

/**
 * Replaces `#live` with the fragment at its `data-src` every few seconds while the tab is visible,
 * so the counts and the list follow a drain without reloading the page.
 */
const LIVE_SCRIPT = `
(function(){var live=document.getElementById('live');if(!live)return;
setInterval(function(){if(document.hidden)return;
fetch(live.dataset.src,{credentials:'same-origin',headers:{accept:'text/html'}}).then(function(r){
if(r.ok)return r.text().then(function(t){live.innerHTML=t;live.dataset.updated=String(Date.now());});});},2000);})();
`;

/** A whole page: header with the app's name and a sign-out button, then `body`. */
export function page(view: ViewContext, title: string, body: HtmlValue): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · ${view.appName} jobs</title><style>${new Html(STYLE)}</style></head>
<body><header><a href="${view.base}">Jobs</a><span class="app">${view.appName}</span>
${postForm(view, 'logout', 'Sign out', {})}</header>
<main>${body}</main><script>${new Html(LIVE_SCRIPT)}</script></body></html>`;
}

/** The login form, alone on its page. */
export function loginPage(base: string, appName: string, failed: boolean): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · ${appName} jobs</title><style>${new Html(STYLE)}</style></head>
<body><main><h2>${appName}: jobs dashboard</h2>
${failed ? html`<p class="notice" role="alert">That is not the admin token.</p>` : ''}
<p class="muted">Enter the admin token (admin.token in the config, usually from LOCO_ADMIN_TOKEN), or send it as Authorization: Bearer.</p>
<form method="post" action="${base}/login"><label>Admin token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button></form></main></body></html>`;
}

/** A POST form of one button to `<base>/<action>`, with the CSRF token and hidden `fields`. */
export function postForm(view: ViewContext, action: string, label: string, fields: Record<string, string>): Html {
  return html`<form class="inline" method="post" action="${view.base}/${action}"><input type="hidden" name="_csrf" value="${view.csrf}">${Object.entries(
    fields,
  ).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  )}<button type="submit">${label}</button></form>`;
}

/** A status as a coloured label. */
export function statusLabel(status: string): Html {
  return html`<span class="status status-${status}">${status}</span>`;
}

/** A time as `2026-11-30 15:04:05Z`, or a dash. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** The first line of an error, cut to `max` characters. */
export function firstLine(text: string | null, max = 120): string {
  if (!text) return '';
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
