/** The dashboard's views: the overview with the job list, and one job's page. */
import { JOB_STATUSES, type JobRecord } from '../queue/backend.js';
import { filterQuery, type JobPage, type ListFilter, type Overview } from './data.js';
import { type Html, html } from './html.js';
import { firstLine, formatTime, page, postForm, statusLabel, type ViewContext } from './layout.js';

/** What a finished action says above the list (fixed texts: nothing from the request is shown). */
export const NOTICES: Record<string, string> = {
  cancelled: 'Cancelled.',
  'not-cancelled': 'Nothing to cancel: the job is no longer queued.',
  retried: 'Queued again.',
  'not-retried': 'Nothing to retry: the job is not failed or cancelled.',
  deleted: 'Deleted.',
  'not-deleted': 'Nothing deleted: a running job cannot be deleted.',
  'retried-failed': 'Failed jobs queued again.',
  paused: 'Paused: no process claims its jobs until it is resumed.',
  resumed: 'Resumed.',
};

/** The overview page: filters outside the live part, so that typing is not lost on refresh. */
export function overviewPage(
  view: ViewContext,
  overview: Overview,
  jobs: JobPage,
  filter: ListFilter,
  notice: string | undefined,
): Html {
  const query = filterQuery(filter);
  const names = overview.workers.map((worker) => worker.name);
  const body = html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<form class="filters" method="get" action="${view.base}">
<label>Status<select name="status"><option value="">any</option>${JOB_STATUSES.map(
    (status) => html`<option value="${status}"${filter.status === status ? ' selected' : ''}>${status}</option>`,
  )}</select></label>
<label>Worker<select name="name"><option value="">any</option>${names.map(
    (name) => html`<option value="${name}"${filter.name === name ? ' selected' : ''}>${name}</option>`,
  )}</select></label>
<label>Tag<input name="tag" value="${filter.tag ?? ''}" size="12"></label>
<button type="submit">Filter</button><a href="${view.base}">clear</a></form>
<div id="live" data-src="${view.base}/live${query ? `?${query}` : ''}">${liveFragment(view, overview, jobs, filter)}</div>`;
  return page(view, 'Jobs', body);
}

/** The part of the overview that refreshes itself: counts, workers, scheduler and the list. */
export function liveFragment(view: ViewContext, overview: Overview, jobs: JobPage, filter: ListFilter): Html {
  const back = `${view.base}${filterQuery(filter) ? `?${filterQuery(filter)}` : ''}`;
  return html`<div class="cards">${JOB_STATUSES.map(
    (status) =>
      html`<a class="card" href="${view.base}?status=${status}" data-status="${status}"><span>${status}</span><b>${overview.totals[status]}</b></a>`,
  )}</div>
${overview.totals.failed > 0 ? html`<p>${postForm(view, 'retry-failed', `Retry all ${overview.totals.failed} failed`, { back })}</p>` : ''}
<h2>Workers</h2>${workersTable(view, overview, back)}
${overview.pausedQueues.length ? html`<p>Paused queues: ${overview.pausedQueues.join(', ')}</p>` : ''}
${schedulerTable(overview)}
<h2>Jobs <span class="muted">(newest first${filter.page > 1 ? `, page ${filter.page}` : ''})</span></h2>
${jobsTable(view, jobs.jobs, back)}
<p>${filter.page > 1 ? html`<a href="${view.base}?${filterQuery(filter, filter.page - 1)}" rel="prev">← newer</a> ` : ''}${
    jobs.more ? html`<a href="${view.base}?${filterQuery(filter, filter.page + 1)}" rel="next">older →</a>` : ''
  }</p>`;
}

function workersTable(view: ViewContext, overview: Overview, back: string): Html {
  if (overview.workers.length === 0) return html`<p class="muted">No workers registered and no jobs stored.</p>`;
  return html`<table id="workers"><thead><tr><th>worker</th>${JOB_STATUSES.map(
    (status) => html`<th>${status}</th>`,
  )}<th>limits</th><th></th></tr></thead><tbody>${overview.workers.map(
    (worker) =>
      html`<tr data-worker="${worker.name}"><td><a href="${view.base}?name=${encodeURIComponent(worker.name)}">${worker.name}</a>${
        worker.registered ? '' : html` <span class="muted">(not registered here)</span>`
      }${worker.paused ? html` <span class="status status-failed">paused</span>` : ''}</td>${JOB_STATUSES.map(
        (status) => html`<td class="num">${worker.counts[status]}</td>`,
      )}<td>${worker.limits.join(', ') || '-'}</td><td>${postForm(
        view,
        worker.paused ? 'resume' : 'pause',
        worker.paused ? 'Resume' : 'Pause',
        { name: worker.name, back },
      )}</td></tr>`,
  )}</tbody></table>`;
}

function schedulerTable(overview: Overview): Html | string {
  if (overview.scheduleError) return html`<h2>Scheduler</h2><p class="muted">${overview.scheduleError}</p>`;
  if (overview.schedules.length === 0) return '';
  return html`<h2>Scheduler</h2><table><thead><tr><th>job</th><th>schedule</th><th>next run</th></tr></thead><tbody>${overview.schedules.map(
    (row) => html`<tr><td>${row.name}</td><td>${row.schedule}</td><td>${formatTime(row.next)}</td></tr>`,
  )}</tbody></table>`;
}

function jobsTable(view: ViewContext, jobs: JobRecord[], back: string): Html {
  if (jobs.length === 0) return html`<p class="muted" id="no-jobs">No jobs match.</p>`;
  return html`<table id="jobs"><thead><tr><th>id</th><th>worker</th><th>status</th><th>attempts</th><th>run at</th><th>updated</th><th>tags</th><th>last error</th><th></th></tr></thead><tbody>${jobs.map(
    (
      job,
    ) => html`<tr data-id="${job.id}" data-status="${job.status}"><td><a href="${view.base}/jobs/${encodeURIComponent(job.id)}">${job.id}</a></td>
<td>${job.name}</td><td>${statusLabel(job.status)}</td><td class="num">${job.attempts}/${job.max_attempts}</td>
<td>${formatTime(job.run_at)}</td><td>${formatTime(job.updated_at)}</td><td>${job.tags.join(', ')}</td>
<td>${firstLine(job.last_error)}</td><td class="actions">${jobActions(view, job, back)}</td></tr>`,
  )}</tbody></table>`;
}

/** The actions a job's status allows: cancel while queued, retry once failed or cancelled, delete unless running. */
export function jobActions(view: ViewContext, job: JobRecord, back: string): Html {
  const id = encodeURIComponent(job.id);
  return html`${job.status === 'queued' ? postForm(view, `jobs/${id}/cancel`, 'Cancel', { back }) : ''}${
    job.status === 'failed' || job.status === 'cancelled' ? postForm(view, `jobs/${id}/retry`, 'Retry', { back }) : ''
  }${job.status !== 'processing' ? postForm(view, `jobs/${id}/delete`, 'Delete', { back: view.base }) : ''}`;
}

/** One job's page: every field, its args and its last error whole. */
export function jobPage(view: ViewContext, job: JobRecord, notice: string | undefined): Html {
  const back = `${view.base}/jobs/${encodeURIComponent(job.id)}`;
  const body = html`${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
<h2>Job <span id="job-id">${job.id}</span> ${statusLabel(job.status)}</h2>
<p>${jobActions(view, job, back)}</p>
<dl id="job">
<dt>worker</dt><dd>${job.name}</dd>
<dt>status</dt><dd data-field="status">${job.status}</dd>
<dt>attempts</dt><dd>${job.attempts} of ${job.max_attempts}</dd>
<dt>priority</dt><dd>${job.priority}</dd>
<dt>unique key</dt><dd>${job.key ?? '-'}</dd>
<dt>queue</dt><dd>${job.queue ?? '(default)'}</dd>
<dt>tags</dt><dd>${job.tags.join(', ') || '-'}</dd>
<dt>interval</dt><dd>${job.interval === null ? '-' : `${job.interval} ms`}</dd>
<dt>run at</dt><dd>${formatTime(job.run_at)}</dd>
<dt>created</dt><dd>${formatTime(job.created_at)}</dd>
<dt>updated</dt><dd>${formatTime(job.updated_at)}</dd>
<dt>lease until</dt><dd>${formatTime(job.lease_until)}</dd>
</dl>
<h2>Args</h2><pre id="args">${JSON.stringify(job.task_data, null, 2)}</pre>
<h2>Last error</h2>${job.last_error ? html`<pre id="last-error">${job.last_error}</pre>` : html`<p class="muted">none</p>`}`;
  return page(view, `Job ${job.id}`, body);
}
