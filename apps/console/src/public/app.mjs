/* global document, window, fetch, EventSource, URLSearchParams, performance, console, setTimeout, clearTimeout */
// The Rollgate web console in the browser: preact + htm, no build step (docs/adr/0014).
// Every read and action is a REST call through the console's server with the signed-in token;
// the token itself never reaches this page.
import { h, render } from '/vendor/preact.mjs';
import { useEffect, useState, useCallback, useRef } from '/vendor/hooks.mjs';
import htm from '/vendor/htm.mjs';
import {
  analysisCharts,
  actionRequest,
  backfillPercent,
  drifting,
  environmentRules,
  gateBlockers,
  markIndex,
  may,
  progressLine,
  releaseActions,
  sliderMarks,
  timelineUntil,
} from '/assets/view-model.mjs';

const html = htm.bind(h);

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'GET' ? {} : { 'x-rollgate-console': '1' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'same-origin',
  });
  const data = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body: data };
}

/** The API's refusal in words: status, message and the fields it names. */
function refusal(answer) {
  const body = answer.body ?? {};
  const details = Array.isArray(body.details)
    ? body.details.map((d) => `${d.field}: ${d.problem}`).join('; ')
    : '';
  const message = Array.isArray(body.message) ? body.message.join('; ') : body.message;
  return `${answer.status}: ${message ?? 'refused'}${details ? ` (${details})` : ''}`;
}

function navigate(path) {
  window.history.pushState({}, '', path);
  window.dispatchEvent(new window.PopStateEvent('popstate'));
}

function Link({ href, children, ...rest }) {
  const click = (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${click} ...${rest}>${children}</a>`;
}

const fmtTime = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '');

// ---- sign-in ------------------------------------------------------------------------------------

function SignIn({ onSignedIn }) {
  const [error, setError] = useState('');
  const submit = async (event) => {
    event.preventDefault();
    const token = event.target.elements.token.value;
    const answer = await call('POST', '/session', { token });
    event.target.elements.token.value = '';
    if (!answer.ok) return setError(refusal(answer));
    onSignedIn(answer.body);
  };
  return html`<main id="main">
    <h1>Sign in to Rollgate</h1>
    <form onSubmit=${submit} class="card signin">
      <label for="token">Rollgate token</label>
      <input id="token" name="token" type="password" autocomplete="off" required />
      <p class="hint">
        Sealed by the console server into an http-only cookie: scripts on this page never see it.
      </p>
      <button type="submit">Sign in</button>
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </form>
  </main>`;
}

// ---- releases list ------------------------------------------------------------------------------

function Releases() {
  const [query, setQuery] = useState({ q: '', status: '', page: 1 });
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    const params = new URLSearchParams({
      q: query.q,
      status: query.status,
      page: String(query.page),
    });
    const answer = await call('GET', `/console/services?${params}`);
    if (!answer.ok) return setError(refusal(answer));
    setError('');
    setData(answer.body);
  }, [query]);
  useEffect(() => {
    void load();
    const live = new EventSource('/live/releases');
    live.addEventListener('changed', () => void load());
    return () => live.close();
  }, [load]);
  return html`<main id="main">
    <h1>Releases</h1>
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label for="filter-q">Service</label>
      <input
        id="filter-q"
        type="search"
        value=${query.q}
        onInput=${(e) => setQuery({ ...query, q: e.target.value, page: 1 })}
      />
      <label for="filter-status">Status</label>
      <select
        id="filter-status"
        value=${query.status}
        onChange=${(e) => setQuery({ ...query, status: e.target.value, page: 1 })}
      >
        <option value="">all</option>
        <option value="active">release in flight</option>
        <option value="succeeded">last succeeded</option>
        <option value="rolled-back">last rolled back</option>
        <option value="aborted">last aborted</option>
      </select>
    </form>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${
      data &&
      html`<p class="count" aria-live="polite">
          ${data.total} service(s), page ${data.page} of ${data.pages}
        </p>
        <table class="services">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Stable build</th>
              <th scope="col">Active release</th>
              <th scope="col">Last outcome</th>
            </tr>
          </thead>
          <tbody>
            ${data.rows.map(
              (row) =>
                html`<tr data-service=${row.service}>
                  <th scope="row">${row.service}</th>
                  <td>${row.stable ?? '—'}</td>
                  <td>
                    ${
                      row.active
                        ? html`<${Link} href=${`/releases/${row.active.id}`}
                            >${row.active.version ?? row.active.id} (${row.active.phase}, step
                            ${row.active.step})<//
                          >`
                        : '—'
                    }
                  </td>
                  <td>
                    ${
                      row.last
                        ? html`<${Link}
                              href=${`/releases/${row.last.id}`}
                              class=${`phase phase-${row.last.phase}`}
                              >${row.last.phase}<//
                            >
                            <span class="muted">${` ${fmtTime(row.last.at)}`}</span>`
                        : '—'
                    }
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
          <button
            type="button"
            disabled=${data.page <= 1}
            onClick=${() => setQuery({ ...query, page: data.page - 1 })}
          >
            Previous page
          </button>
          <button
            type="button"
            disabled=${data.page >= data.pages}
            onClick=${() => setQuery({ ...query, page: data.page + 1 })}
          >
            Next page
          </button>
        </nav>`
    }
  </main>`;
}

// ---- release page -------------------------------------------------------------------------------

function ReasonForm({ label, confirm, onSubmit, onCancel }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  const submit = (event) => {
    event.preventDefault();
    onSubmit(event.target.elements.reason.value.trim());
  };
  return html`<form class="reason" onSubmit=${submit}>
    <label for="reason-input">${label}</label>
    <input id="reason-input" name="reason" ref=${ref} required minlength="1" />
    <button type="submit">${confirm}</button>
    <button type="button" onClick=${onCancel}>Cancel</button>
  </form>`;
}

function Chart({ chart }) {
  const last = chart.points[chart.points.length - 1];
  return html`<figure class="chart" data-metric=${chart.metric}>
    <figcaption>
      ${chart.label}${chart.unit ? ` (${chart.unit})` : ''}
      <span class="legend"
        ><span class="swatch canary"></span>canary
        <span class="swatch baseline"></span>baseline</span
      >
    </figcaption>
    <svg
      viewBox=${`0 0 ${chart.width} ${chart.height}`}
      role="img"
      aria-label=${`${chart.label}: canary vs baseline over ${chart.points.length} intervals${last ? `, last canary ${fmtNum(last.canary)}, baseline ${fmtNum(last.baseline)}` : ''}`}
    >
      <line x1="0" y1=${chart.height - 6} x2=${chart.width} y2=${chart.height - 6} class="axis" />
      <text x=${chart.width - 4} y="14" class="axis-label" text-anchor="end">
        max ${fmtNum(chart.max)}${chart.unit}
      </text>
      <path d=${chart.baselinePath} class="line baseline" />
      <path d=${chart.canaryPath} class="line canary" />
      ${chart.points.map(
        (p) =>
          p.cy !== null &&
          html`<circle cx=${p.x} cy=${p.cy} r="2.5" class=${`dot verdict-${p.verdict}`}
            ><title>interval ${p.interval}: ${p.verdict}</title></circle
          >`,
      )}
    </svg>
  </figure>`;
}

const fmtNum = (v) => (v === null || v === undefined ? '—' : String(Math.round(v * 100) / 100));

function Analysis({ analysis }) {
  const charts = analysisCharts(analysis.intervals ?? []);
  const last = analysis.intervals?.[analysis.intervals.length - 1];
  return html`<section class="card analysis" aria-labelledby=${`analysis-${analysis.step}`}>
    <h3 id=${`analysis-${analysis.step}`}>
      Step ${analysis.step}: ${analysis.judge} judge, ${analysis.intervals?.length ?? 0} interval(s)
      ${last && html` — last verdict <span class=${`verdict verdict-${last.verdict}`}>${last.verdict}</span>`}
      ${analysis.outcome && html` — outcome <span class=${`verdict verdict-${analysis.outcome}`}>${analysis.outcome}</span>`}
    </h3>
    <div class="charts">${charts.map((c) => html`<${Chart} chart=${c} />`)}</div>
    <details>
      <summary>Verdicts and reasons per interval</summary>
      <ol class="intervals">
        ${(analysis.intervals ?? []).map(
          (i) =>
            html`<li data-interval=${i.interval}>
              <span class=${`verdict verdict-${i.verdict}`}>${i.verdict}</span> ${fmtTime(i.at)}
              score ${fmtNum(i.score)}
              <ul>
                ${i.reasons.map((r) => html`<li>${r}</li>`)}
              </ul>
            </li>`,
        )}
      </ol>
    </details>
  </section>`;
}

function ReleasePage({ id, grant }) {
  const params = new URLSearchParams(window.location.search);
  const [at, setAt] = useState(params.get('at'));
  const [replay, setReplay] = useState(null);
  const [timeline, setTimeline] = useState([]);
  const [fleet, setFleet] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [asking, setAsking] = useState(null);
  const [live, setLive] = useState('connecting');
  const [rendered, setRendered] = useState(null);
  const started = useRef(performance.now());

  const loadState = useCallback(
    async (cut) => {
      const suffix = cut ? `?at=${encodeURIComponent(cut)}` : '';
      const answer = await call('GET', `/api/orchestrator/releases/${id}/state${suffix}`);
      if (!answer.ok) return setError(refusal(answer));
      setError('');
      setReplay(answer.body);
      const service = answer.body.view?.service;
      if (service && !cut) {
        const f = await call('GET', `/api/orchestrator/services/${encodeURIComponent(service)}`);
        if (f.ok) setFleet(f.body);
      }
    },
    [id],
  );

  useEffect(() => {
    void loadState(at);
  }, [at, loadState]);

  // Live: the console server streams the timeline from the log; each new entry reloads the state.
  useEffect(() => {
    const source = new EventSource(`/live/releases/${id}`);
    let pending = null;
    source.addEventListener('timeline', (event) => {
      const entry = JSON.parse(event.data);
      setTimeline((list) => (list.some((e) => e.n === entry.n) ? list : [...list, entry]));
      clearTimeout(pending);
      pending = setTimeout(() => {
        if (!new URLSearchParams(window.location.search).get('at')) void loadState(null);
      }, 50);
    });
    source.addEventListener('status', (event) =>
      setLive(JSON.parse(event.data).up ? 'live' : 'services unreachable, retrying'),
    );
    source.onerror = () => setLive('reconnecting');
    return () => {
      source.close();
      clearTimeout(pending);
    };
  }, [id, loadState]);

  useEffect(() => {
    if (replay && rendered === null) {
      window.requestAnimationFrame(() => {
        const ms = Math.round(performance.now() - started.current);
        document.body.dataset.releaseRenderedMs = String(ms);
        setRendered(ms);
      });
    }
  }, [replay, rendered]);

  if (!replay)
    return html`<main id="main">
      <h1>Release ${id}</h1>
      ${error ? html`<p role="alert" class="error">${error}</p>` : html`<p>Loading…</p>`}
    </main>`;

  const view = replay.view;
  const state = replay.state;
  const marks = sliderMarks(timeline);
  const index = markIndex(marks, at);
  const shown = timelineUntil(timeline, at);
  const weights = state.routes?.length ? state.routes[state.routes.length - 1].weights : {};
  const fmtWeights = (w) =>
    Object.entries(w ?? {})
      .filter(([, v]) => v > 0)
      .map(([g, v]) => `${g} ${v}`)
      .join(', ');
  // The view has the shape of GET /releases/:id: its phase and drift decide the buttons.
  const actions = at ? [] : releaseActions(view, grant);
  const steps = progressLine(view);

  const travel = (i) => {
    const cut = marks[i];
    const isLast = i >= marks.length - 1;
    const next = isLast ? null : cut;
    setAt(next);
    window.history.replaceState(
      {},
      '',
      next ? `/releases/${id}?at=${encodeURIComponent(next)}` : `/releases/${id}`,
    );
  };

  const act = async (action, reason) => {
    setAsking(null);
    const request = actionRequest(action, reason);
    const answer = await call(
      'POST',
      `/api/orchestrator/releases/${id}/${request.path}`,
      request.body,
    );
    if (!answer.ok) {
      setNotice('');
      return setError(`${action} refused: ${refusal(answer)}`);
    }
    setError('');
    setNotice(`${action} accepted`);
    void loadState(null);
  };

  return html`<main id="main">
    <h1>Release of ${view.service} ${view.version ?? ''}</h1>
    <p class="summary">
      <span class=${`phase phase-${view.phase}`} data-testid="phase">${view.phase}</span>
      ${' step '}<span data-testid="step">${view.step}</span>
      ${` (of 0–${view.steps.length - 1}), ${view.strategy}, requested by `}
      <span class="actor">${view.requestedBy}</span>
      ${` at ${fmtTime(view.requestedAt)} `} ${view.reason && html`<br />reason: ${view.reason}`}
      ${
        view.drift?.length > 0 &&
        html`<br /><strong class="drift-label" data-testid="drift"
            >${`held by drift on ${view.drift.join(', ')}`}</strong
          >${' (resume clears the hold; promote is refused until then)'}`
      }
      <span class="live" aria-live="polite">${at ? `time travel: ${fmtTime(at)}` : live}</span>
      ${rendered !== null && html`<span class="muted"> rendered in ${rendered} ms</span>`}
    </p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${notice && html`<p role="status" class="notice">${notice}</p>`}

    <section aria-labelledby="travel-h" class="card">
      <h2 id="travel-h">Time travel</h2>
      <label for="travel">Moment (${marks.length} events)</label>
      <input
        id="travel"
        type="range"
        min="0"
        max=${Math.max(0, marks.length - 1)}
        value=${index}
        aria-valuetext=${marks[index] ? fmtTime(marks[index]) : 'now'}
        onInput=${(e) => travel(Number(e.target.value))}
      />
      <output for="travel" data-testid="cut">${at ? at : 'now (live)'}</output>
      ${at && html`<button type="button" onClick=${() => travel(marks.length - 1)}>Back to live</button>`}
    </section>

    <section aria-labelledby="steps-h" class="card">
      <h2 id="steps-h">Steps</h2>
      <ol class="progress">
        ${steps.map(
          (s) =>
            html`<li
              class=${`step step-${s.status}`}
              data-step=${s.index}
              aria-current=${s.status === 'current' ? 'step' : undefined}
            >
              <strong>${s.index}. ${s.description}</strong>
              <span class="weights"
                >${Object.entries(s.weights)
                  .map(([g, w]) => `${g} ${w}%`)
                  .join(', ')}</span
              >
              <span class="status">${s.status}</span>
            </li>`,
        )}
      </ol>
      <p>
        ${'Route weights applied by the data plane: '}
        <span data-testid="weights">${fmtWeights(weights) || 'none yet'}</span>
        ${'; requested: '}
        <span data-testid="requested">${fmtWeights(state.requestedWeights) || 'none'}</span>
      </p>
    </section>

    ${
      actions.length > 0 &&
      html`<section aria-labelledby="actions-h" class="card">
        <h2 id="actions-h">Actions</h2>
        <div class="actions">
          ${actions.map(
            (a) =>
              html`<button
                type="button"
                data-action=${a.action}
                disabled=${!a.enabled}
                title=${a.why ?? ''}
                onClick=${() => (a.action === 'pause' || a.action === 'abort' ? setAsking(a.action) : act(a.action, ''))}
              >
                ${a.label}
              </button>`,
          )}
        </div>
        ${
          asking &&
          html`<${ReasonForm}
            label=${`Reason to ${asking}`}
            confirm=${`Confirm ${asking}`}
            onSubmit=${(reason) => act(asking, reason)}
            onCancel=${() => setAsking(null)}
          />`
        }
      </section>`
    }

    <section aria-labelledby="analysis-h">
      <h2 id="analysis-h">Analysis</h2>
      ${(state.analyses ?? []).length === 0 && html`<p>No analysis yet.</p>`}
      ${(state.analyses ?? []).map((a) => html`<${Analysis} analysis=${a} />`)}
    </section>

    ${
      !at &&
      fleet &&
      html`<section aria-labelledby="fleet-h" class="card">
        <h2 id="fleet-h">Fleet of ${fleet.service}</h2>
        <p>Stable: ${fleet.stable?.version ?? '—'}</p>
        <table class="fleet">
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Group</th>
              <th scope="col">Intended</th>
              <th scope="col">Reported</th>
              <th scope="col">Health</th>
            </tr>
          </thead>
          <tbody>
            ${fleet.instances.map((i) => {
              const drift = drifting(i);
              return html`<tr class=${drift ? 'drift' : ''}>
                <th scope="row">${i.id}</th>
                <td>${i.group}</td>
                <td>${i.intended?.version ?? '—'}</td>
                <td>
                  ${i.reported?.version ?? '—'}${drift ? html` <strong class="drift-label">drift</strong>` : ''}
                </td>
                <td>${i.healthy ? 'healthy' : 'unhealthy'}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </section>`
    }

    <section aria-labelledby="timeline-h" class="card">
      <h2 id="timeline-h">Timeline${at ? ` up to ${fmtTime(at)}` : ''}</h2>
      <ol class="timeline" data-testid="timeline" tabindex="0" aria-labelledby="timeline-h">
        ${shown.map(
          (e) =>
            html`<li data-n=${e.n}>
              <time datetime=${e.occurredAt}>${fmtTime(e.occurredAt)}</time>
              ${' '}<span class="type">${e.type}</span>${' by '}<span class="actor"
                >${e.actor}</span
              >
              ${`: ${e.summary}${e.reason ? ` — ${e.reason}` : ''}`}
            </li>`,
        )}
      </ol>
    </section>
  </main>`;
}

// ---- flags --------------------------------------------------------------------------------------

/** Everything the flags page shows of a project, read through the API with the session's token. */
async function loadFlags(project) {
  const p = encodeURIComponent(project);
  const [projects, list, debt] = await Promise.all([
    call('GET', '/api/flags/flags/projects'),
    call('GET', `/api/flags/flags?project=${p}`),
    call('GET', '/api/flags/flags/stale'),
  ]);
  if (!list.ok) return { error: refusal(list) };
  const ramps = {};
  await Promise.all(
    list.body.flatMap((flag) =>
      Object.entries(flag.definition?.environments ?? {})
        .filter(([, env]) => env.enabled)
        .map(async ([env]) => {
          const ramp = await call(
            'GET',
            `/api/flags/flags/${encodeURIComponent(flag.key)}/guarded-rollout?project=${p}&environment=${encodeURIComponent(env)}`,
          );
          if (ramp.ok) ramps[`${flag.key}/${env}`] = ramp.body;
        }),
    ),
  );
  return {
    projects: projects.ok ? projects.body : [],
    flags: list.body,
    stale: debt.ok ? debt.body : [],
    ramps,
  };
}

function Flags({ grant }) {
  const [project, setProject] = useState(
    () => new URLSearchParams(window.location.search).get('project') || 'default',
  );
  const [data, setData] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [killing, setKilling] = useState(null);
  const [reloads, setReloads] = useState(0);
  // Live: reloaded every second (like the migrations page), one load at a time, so a guarded
  // ramp's progress and changes made elsewhere show without a reload. Leaving the page or
  // choosing another project stops the loop; a load still under way is then ignored.
  useEffect(() => {
    let stopped = false;
    let timer;
    const tick = async () => {
      const answer = await loadFlags(project).catch((e) => ({ error: String(e) }));
      if (stopped) return;
      setLoadError(answer.error ?? '');
      if (!answer.error) setData(answer);
      timer = setTimeout(() => void tick(), 1000);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [project, reloads]);
  const choose = (name) => {
    setData(null);
    setKilling(null);
    setProject(name);
    window.history.replaceState({}, '', `/flags?project=${encodeURIComponent(name)}`);
  };
  const kill = async (key, environment, reason) => {
    setKilling(null);
    const answer = await call(
      'POST',
      `/api/flags/flags/${encodeURIComponent(key)}/kill?project=${encodeURIComponent(project)}`,
      { environment, reason },
    );
    if (!answer.ok) {
      setNotice('');
      return setError(`kill refused: ${refusal(answer)}`);
    }
    setError('');
    setNotice(`${key} killed in ${environment}`);
    setReloads((n) => n + 1);
  };
  const mayFlags = may(grant, 'flags');
  const projects = data?.projects ?? [];
  const current = projects.find((p) => p.name === project);
  // The chosen project stays selectable even before the read model lists it.
  const names = [...new Set([project, ...projects.map((p) => p.name)])].sort();
  const flags = data?.flags ?? [];
  const stale = data?.stale ?? [];
  return html`<main id="main">
    <h1>Flags</h1>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label for="project">Project</label>
      <select id="project" value=${project} onChange=${(e) => choose(e.target.value)}>
        ${names.map((name) => {
          const count = projects.find((p) => p.name === name)?.flags;
          return html`<option value=${name}>
            ${name}${count === undefined ? '' : ` (${count} flag${count === 1 ? '' : 's'})`}
          </option>`;
        })}
      </select>
      ${
        current &&
        html`<span class="muted" data-testid="project-settings"
          >${[
            `environments ${current.environments.join(', ')}`,
            `owners ${current.services.join(', ') || 'none (tokens for every service)'}`,
            ...(current.blockReleasesOnExpiredFlags ? ['expired flags block releases'] : []),
          ].join('; ')}</span
        >`
      }
    </form>
    ${loadError && html`<p role="alert" class="error">${loadError}</p>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${notice && html`<p role="status" class="notice">${notice}</p>`}
    ${!data && !loadError && html`<p>Loading…</p>`}
    ${data && flags.length === 0 && html`<p>No flags in ${project}.</p>`}
    ${flags.map(
      (flag) =>
        html`<section
          key=${flag.key}
          class="card flag"
          data-flag=${flag.key}
          aria-labelledby=${`flag-${flag.key}`}
        >
          <h2 id=${`flag-${flag.key}`}>
            ${flag.key}${' '}
            <span class="muted"
              >${flag.type}, owner ${flag.owner}, expires ${fmtTime(flag.expiresAt)}</span
            >
          </h2>
          <table class="flag-envs">
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">State</th>
                <th scope="col">Rules</th>
                <th scope="col">Rollout</th>
                <th scope="col">Guarded ramp</th>
                <th scope="col"><span class="sr-only">Kill switch</span></th>
              </tr>
            </thead>
            <tbody>
              ${Object.entries(flag.definition?.environments ?? {}).map(([env, cfg]) => {
                const ramp = data.ramps[`${flag.key}/${env}`];
                const rules = environmentRules(cfg);
                return html`<tr data-env=${env}>
                  <th scope="row">${env}</th>
                  <td class=${cfg.enabled ? 'on' : 'off'} data-testid="flag-state">
                    ${cfg.enabled ? 'on' : 'off'}
                  </td>
                  <td data-testid="flag-rules">
                    ${
                      rules.length === 0
                        ? html`<span class="muted">none</span>`
                        : html`<ol class="rules">
                            ${rules.map((r) => html`<li>${r}</li>`)}
                          </ol>`
                    }
                  </td>
                  <td data-testid="flag-rollout">
                    ${cfg.rollout?.percentage !== undefined ? `${cfg.rollout.percentage}%` : '—'}
                  </td>
                  <td>
                    ${
                      ramp
                        ? html`<div class="ramp">
                            <span
                              >${ramp.status}, step ${ramp.step + 1} of ${ramp.steps.length}</span
                            >
                            <progress
                              max="100"
                              value=${ramp.percentage}
                              aria-label=${`ramp of ${flag.key} in ${env}`}
                            >
                              ${ramp.percentage}%
                            </progress>
                            <span>${ramp.percentage}%</span>
                          </div>`
                        : '—'
                    }
                  </td>
                  <td>
                    ${
                      mayFlags &&
                      cfg.enabled &&
                      html`<button
                        type="button"
                        class="danger"
                        data-kill=${env}
                        onClick=${() => setKilling({ key: flag.key, env })}
                      >
                        Kill in ${env}
                      </button>`
                    }
                  </td>
                </tr>`;
              })}
            </tbody>
          </table>
          ${
            killing &&
            killing.key === flag.key &&
            html`<${ReasonForm}
              label=${`Reason to kill ${flag.key} in ${killing.env}`}
              confirm="Confirm kill"
              onSubmit=${(reason) => kill(flag.key, killing.env, reason)}
              onCancel=${() => setKilling(null)}
            />`
          }
        </section>`,
    )}
    <section class="card" aria-labelledby="stale-h">
      <h2 id="stale-h">Stale and expired flags</h2>
      ${
        stale.length === 0
          ? html`<p>None.</p>`
          : html`<ul>
              ${stale.map((s) => html`<li>${s.project}/${s.key} (owner ${s.owner}): ${s.expired ? html`<strong>expired</strong> ${fmtTime(s.expiresAt)}` : `potentially stale since ${fmtTime(s.potentiallyStaleAt)}`}</li>`)}
            </ul>`
      }
    </section>
  </main>`;
}

// ---- migrations ---------------------------------------------------------------------------------

function Migrations() {
  const [items, setItems] = useState([]);
  const [error, setError] = useState('');
  const load = useCallback(async () => {
    const list = await call('GET', '/api/migrations/migrations');
    if (!list.ok) return setError(refusal(list));
    setError('');
    const details = await Promise.all(
      list.body.map(async (m) => {
        const [status, fleet] = await Promise.all([
          call('GET', `/api/migrations/migrations/${encodeURIComponent(m.id)}`),
          call('GET', `/api/orchestrator/fleet/instances?service=${encodeURIComponent(m.service)}`),
        ]);
        return {
          ...m,
          ...(status.ok ? status.body : {}),
          instances: fleet.ok ? fleet.body.instances : [],
        };
      }),
    );
    setItems(details);
  }, []);
  useEffect(() => {
    void load();
    const timer = window.setInterval(() => void load(), 1000);
    return () => window.clearInterval(timer);
  }, [load]);
  return html`<main id="main">
    <h1>Migrations</h1>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${items.length === 0 && html`<p>No migrations.</p>`}
    ${items.map((m) => {
      const blockers = gateBlockers(m.instances, m.versions?.old);
      return html`<section
        class="card migration"
        data-migration=${m.id}
        aria-labelledby=${`m-${m.id}`}
      >
        <h2 id=${`m-${m.id}`}>
          ${m.name ?? m.id} <span class="muted">${m.service}, ${m.database}</span>
        </h2>
        <p>
          Status
          <strong data-testid="migration-status">${m.status}</strong
          >${m.phase ? `, phase ${m.phase}` : ''}${m.lockRetries ? `, ${m.lockRetries} lock retries` : ''}
        </p>
        ${(m.backfill ?? []).map((b) => {
          const pct = backfillPercent(b);
          return html`<div class="backfill">
            <label for=${`bf-${m.id}-${b.table}`}
              >Backfill of ${b.table}: ${b.rowsDone} of ${b.rowsTotal} rows</label
            >
            <progress id=${`bf-${m.id}-${b.table}`} max="100" value=${pct}>${pct}%</progress>
            <span data-testid="backfill-pct">${pct}%</span>
          </div>`;
        })}
        <h3>Fleet gate</h3>
        ${
          blockers.length > 0
            ? html`<p>Contract is blocked by live instances of old versions:</p>
                <ul>
                  ${blockers.map((b) => html`<li>${b.id} runs ${b.version}</li>`)}
                </ul>`
            : html`<p>
                No live instance runs an old version
                (${(m.versions?.old ?? []).join(', ') || 'none declared'}).
              </p>`
        }
        ${m.contractRefusal && html`<p class="error">Last contract refusal: ${m.contractRefusal}</p>`}
        ${m.lastError && html`<p class="error">Last error: ${m.lastError}</p>`}
      </section>`;
    })}
  </main>`;
}

// ---- shell --------------------------------------------------------------------------------------

function App() {
  const [grant, setGrant] = useState(undefined);
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    window.addEventListener('popstate', onPop);
    void call('GET', '/session').then((a) => setGrant(a.ok ? a.body : null));
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  if (grant === undefined) return html`<main id="main"><p>Loading…</p></main>`;
  if (grant === null)
    return html`<${SignIn}
      onSignedIn=${(g) => {
        setGrant(g);
        if (path === '/signin' || path === '/') navigate('/releases');
      }}
    />`;
  const signOut = async () => {
    await call('DELETE', '/session');
    setGrant(null);
  };
  const release = /^\/releases\/([^/]+)$/.exec(path);
  let page;
  if (release)
    page = html`<${ReleasePage}
      key=${release[1]}
      id=${decodeURIComponent(release[1])}
      grant=${grant}
    />`;
  else if (path === '/flags') page = html`<${Flags} grant=${grant} />`;
  else if (path === '/migrations') page = html`<${Migrations} />`;
  else page = html`<${Releases} />`;
  return html`<a class="skip" href="#main">Skip to content</a>
    <header>
      <nav aria-label="Console">
        <strong>Rollgate</strong>
        <${Link} href="/releases">Releases<//>
        <${Link} href="/flags">Flags<//>
        <${Link} href="/migrations">Migrations<//>
      </nav>
      <p class="who">
        Signed in as
        <span data-testid="subject">${grant.subject}</span>
        (${grant.scopes.join(', ')}${grant.services ? `; services ${grant.services.join(', ')}` : ''})
        <button type="button" onClick=${signOut}>Sign out</button>
      </p>
    </header>
    ${page}`;
}

render(html`<${App} />`, document.getElementById('app'));
console.info('rollgate console ready');
