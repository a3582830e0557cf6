/** The dashboard's pages. Every number is the API's own (counts as given, rates formatted to 0.1 %). */
import { download, get, optional, post } from './api.js';
import { experimentChart, journeyGraph, sankeyChart } from './charts.js';
import { h, num, pct } from './dom.js';
import type { PageContext } from './main.js';

// biome-ignore lint/suspicious/noExplicitAny: API responses, read field by field
type Json = any;

const selection: { journey?: string; node?: string } = {};

/** A table; `key` names each row (`data-<name>="<value>"`) for the browser tests. */
function table(
  headers: string[],
  rows: (string | number | Node)[][],
  numeric: number[] = [],
  key?: { name: string; values: string[] },
): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h('tr', {}, ...headers.map((t, i) => h('th', { class: numeric.includes(i) ? 'num' : '' }, t))),
      ),
      h(
        'tbody',
        {},
        ...rows.map((row, r) =>
          h(
            'tr',
            key ? { [`data-${key.name}`]: key.values[r] } : {},
            ...row.map((cell, i) => h('td', { class: numeric.includes(i) ? 'num' : '' }, cell)),
          ),
        ),
      ),
    ),
  );
}

function actions(journey: Json, context: PageContext): HTMLElement {
  const act = (verb: string) => async () => {
    await post(`/journeys/${encodeURIComponent(journey.id)}/${verb}`);
    context.refresh();
  };
  return h(
    'span',
    { class: 'actions' },
    journey.status !== 'archived' && journey.latestVersion !== journey.publishedVersion
      ? h('button', { type: 'button', class: 'primary', onclick: act('publish') }, 'Publish')
      : null,
    journey.status === 'active' ? h('button', { type: 'button', onclick: act('pause') }, 'Pause') : null,
    journey.status === 'paused' ? h('button', { type: 'button', onclick: act('resume') }, 'Resume') : null,
  );
}

export async function journeysPage(_params: string[], context: PageContext): Promise<HTMLElement> {
  const { journeys } = await get('/journeys');
  const stats = await Promise.all(
    journeys.map((j: Json) =>
      j.publishedVersion ? optional(`/journeys/${encodeURIComponent(j.id)}/stats`) : Promise.resolve(null),
    ),
  );
  const rows = journeys.map((j: Json, i: number) => {
    const s = stats[i];
    const inJourney = s
      ? Object.values(s.nodes as Record<string, { waiting: number }>).reduce((sum, n) => sum + n.waiting, 0)
      : 0;
    return [
      h('a', { href: `#/journeys/${encodeURIComponent(j.id)}`, 'data-journey': j.id }, j.name || j.id),
      h('span', { class: `badge ${j.status}` }, j.status),
      j.publishedVersion ?? '—',
      num(s?.started ?? 0),
      num(inJourney),
      num(s?.goal?.conversions ?? 0),
      actions(j, context),
    ];
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Journeys'),
    journeys.length === 0
      ? h('p', { class: 'muted' }, 'No journeys yet: PUT /journeys/{id} and publish one.')
      : table(
          ['Journey', 'Status', 'Version', 'Entered', 'Waiting now', 'Converted', ''],
          rows,
          [2, 3, 4, 5],
        ),
  );
}

function nodePanel(report: Json, definition: Json, nodeId: string | undefined): HTMLElement {
  if (!nodeId || !report.nodes[nodeId])
    return h('aside', { class: 'card panel' }, h('p', { class: 'muted' }, 'Click a node for its numbers.'));
  const n = report.nodes[nodeId];
  const m = report.messages[nodeId];
  const rows: [string, string][] = [
    ['Type', definition.nodes[nodeId]?.type ?? '(older version)'],
    ['Entered', num(n.entered)],
    ['Completed', num(n.completed)],
    ['Left here', num(n.dropped)],
    ['Median time to next', n.medianSecondsToNext === null ? '—' : `${num(n.medianSecondsToNext)} s`],
  ];
  if (m) {
    rows.push(
      ['Sent', num(m.sent)],
      ['Delivered', num(m.delivered)],
      ['Opened', `${num(m.opened)} (${pct(m.openRate)})`],
      ['Clicked', `${num(m.clicked)} (${pct(m.clickRate)})`],
    );
  }
  return h(
    'aside',
    { class: 'card panel', 'data-panel': nodeId },
    h('h2', {}, nodeId),
    h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
  );
}

export async function journeyPage([id]: string[], context: PageContext): Promise<HTMLElement> {
  const path = `/journeys/${encodeURIComponent(id!)}`;
  const [journey, report, paths] = await Promise.all([
    get(path),
    get(`${path}/report`),
    get(`${path}/paths`),
  ]);
  if (selection.journey !== id) Object.assign(selection, { journey: id, node: undefined });
  const definition = journey.published?.definition ?? journey.definition;
  const graphHolder = h('div', { class: 'card scroll' });
  const panelHolder = h('div', {});
  const draw = () => {
    graphHolder.replaceChildren(
      journeyGraph(definition, report.nodes, selection.node, (nodeId) => {
        selection.node = nodeId;
        draw();
      }),
    );
    panelHolder.replaceChildren(nodePanel(report, definition, selection.node));
  };
  draw();

  const csv = (table: string) => () =>
    download(`${path}/report?format=csv&table=${table}`, `${id}-${table}.csv`);
  const experiments = report.experiments.map((e: Json) =>
    h(
      'div',
      { class: 'card experiment', 'data-experiment': e.node },
      h('h2', {}, `Experiment at ${e.node}`),
      experimentChart(e.arms, e.winner),
      h(
        'p',
        { class: 'verdict', 'data-significant': String(e.significant) },
        h(
          'strong',
          {},
          e.significant ? `Winner: ${e.arms.find((a: Json) => a.next === e.winner)?.name}` : 'No winner yet',
        ),
        ` — ${e.note}.`,
      ),
      h(
        'p',
        { class: 'muted' },
        `${e.test}; p = ${e.pValue === null ? '—' : Number(e.pValue).toPrecision(2)}`,
      ),
      e.uplift
        ? h(
            'p',
            {},
            `Uplift over holdout: ${(e.uplift.absolute * 100).toFixed(1)} points [${(e.uplift.ci95[0] * 100).toFixed(1)} to ${(e.uplift.ci95[1] * 100).toFixed(1)}]`,
          )
        : null,
    ),
  );
  const messages = Object.entries(report.messages as Record<string, Json>).map(([nodeId, m]) => [
    nodeId,
    m.channel,
    num(m.sent),
    num(m.delivered),
    num(m.opened),
    pct(m.openRate),
    num(m.clicked),
    pct(m.clickRate),
    num(m.bounced),
    num(m.complained),
    num(m.unsubscribed ?? 0),
  ]);
  return h(
    'section',
    { 'data-journey': id },
    h('p', {}, h('a', { href: '#/' }, '← Journeys')),
    h(
      'h1',
      {},
      journey.name || id,
      ' ',
      h('span', { class: `badge ${journey.status}` }, journey.status),
      ' ',
      actions(journey, context),
    ),
    h(
      'div',
      { class: 'kpis' },
      h(
        'div',
        { class: 'kpi' },
        h('b', { 'data-kpi': 'entered' }, num(report.entered)),
        h('span', {}, 'entered'),
      ),
      h(
        'div',
        { class: 'kpi' },
        h('b', { 'data-kpi': 'conversions' }, num(report.goal.conversions)),
        h('span', {}, 'reached the goal'),
      ),
      h(
        'div',
        { class: 'kpi' },
        h('b', { 'data-kpi': 'rate' }, pct(report.goal.rate)),
        h('span', {}, 'goal rate'),
      ),
    ),
    report.suggestions.length
      ? h('ul', { class: 'card suggestions' }, ...report.suggestions.map((text: string) => h('li', {}, text)))
      : null,
    h('h2', {}, 'Journey'),
    h('div', { class: 'grid' }, graphHolder, panelHolder),
    experiments.length ? h('h2', {}, 'Experiments') : null,
    ...experiments,
    h('h2', {}, 'Paths'),
    h('div', { class: 'card scroll' }, sankeyChart(paths.links)),
    report.paths.length
      ? table(
          ['Path', 'Customers', 'Converted'],
          report.paths.map((p: Json) => [p.nodes.join(' → '), num(p.count), num(p.conversions)]),
          [1, 2],
        )
      : null,
    h('h2', {}, 'Messages'),
    messages.length
      ? table(
          [
            'Node',
            'Channel',
            'Sent',
            'Delivered',
            'Opened',
            'Open rate',
            'Clicked',
            'Click rate',
            'Bounced',
            'Complaints',
            'Unsubscribed',
          ],
          messages,
          [2, 3, 4, 5, 6, 7, 8, 9, 10],
          { name: 'message', values: Object.keys(report.messages) },
        )
      : h('p', { class: 'muted' }, 'This journey sends no messages.'),
    h(
      'p',
      { class: 'actions' },
      h('button', { type: 'button', onclick: csv('nodes') }, 'Download funnel (CSV)'),
      h('button', { type: 'button', onclick: csv('messages') }, 'Download messages (CSV)'),
      h('button', { type: 'button', onclick: csv('experiments') }, 'Download experiments (CSV)'),
      h('button', { type: 'button', onclick: csv('paths') }, 'Download paths (CSV)'),
    ),
  );
}

const lookup: { query: string; result?: HTMLElement } = { query: '' };

export async function profilesPage(): Promise<HTMLElement> {
  const input = h('input', {
    id: 'who',
    placeholder: 'userId or email',
    value: lookup.query,
  }) as HTMLInputElement;
  const holder = h('div', {}, lookup.result ?? null);
  const search = async (event: Event) => {
    event.preventDefault();
    lookup.query = input.value.trim();
    const key = lookup.query.includes('@') ? 'email' : 'userId';
    const profile = await optional(`/profiles?${key}=${encodeURIComponent(lookup.query)}`);
    if (!profile) {
      lookup.result = h('p', { class: 'muted' }, 'No profile has that identifier.');
    } else {
      const timeline = await get(`/profiles/${encodeURIComponent(profile.profileId)}/timeline?limit=100`);
      const items: Json[] = timeline.entries ?? [];
      lookup.result = h(
        'div',
        { class: 'card', 'data-profile': profile.profileId },
        h('h2', {}, profile.profileId),
        table(
          ['Trait', 'Value'],
          Object.entries(profile.traits ?? {}).map(([k, v]) => [
            k,
            typeof v === 'string' ? v : JSON.stringify(v),
          ]),
        ),
        h('h2', {}, 'Timeline'),
        h(
          'ol',
          { class: 'timeline' },
          ...items.map((item: Json) =>
            h(
              'li',
              {},
              h('span', { class: 'muted' }, `${item.at ?? item.timestamp ?? item.receivedAt ?? ''} `),
              item.kind === 'journey-step' || item.kind === 'message'
                ? `${item.journeyId} · ${item.nodeId} · ${item.outcome}`
                : `${item.type ?? ''} ${item.event ?? ''}`,
            ),
          ),
        ),
      );
    }
    holder.replaceChildren(lookup.result);
  };
  return h(
    'section',
    {},
    h('h1', {}, 'Profiles'),
    h(
      'form',
      { class: 'actions', onsubmit: (e) => void search(e) },
      input,
      h('button', { type: 'submit', class: 'primary' }, 'Find'),
    ),
    holder,
  );
}

/**
 * Profiles per lifecycle stage from `GET /lifecycle` (`{ definition: { stages }, now, days }`):
 * the defined stages in their order, then any stage only the counts still name (a renamed one).
 */
function lifecycleStages(lifecycle: Json): [string, number][] {
  const now: Record<string, number> = lifecycle?.now ?? {};
  const defined: string[] = (lifecycle?.definition?.stages ?? []).map((stage: Json) => String(stage.name));
  const names = [...defined, ...Object.keys(now).filter((name) => !defined.includes(name))];
  return names.map((name) => [name, Number(now[name] ?? 0)]);
}

export async function segmentsPage(): Promise<HTMLElement> {
  const [segments, lifecycle] = await Promise.all([optional('/segments'), optional('/lifecycle')]);
  const list: Json[] = segments?.segments ?? [];
  const stages = lifecycleStages(lifecycle);
  return h(
    'section',
    {},
    h('h1', {}, 'Segments'),
    segments === null
      ? h('p', { class: 'muted' }, 'Segments are not available in this deployment yet.')
      : list.length === 0
        ? h('p', { class: 'muted' }, 'No segments yet: PUT /segments/{id} to define one.')
        : table(
            ['Segment', 'Status', 'Customers'],
            list.map((s: Json) => [s.name ?? s.id, s.status ?? '', num(Number(s.count ?? 0))]),
            [2],
            { name: 'segment', values: list.map((s: Json) => String(s.id)) },
          ),
    h('h2', {}, 'Lifecycle stages'),
    lifecycle === null
      ? h('p', { class: 'muted' }, 'Lifecycle stages are not available in this deployment yet.')
      : table(
          ['Stage', 'Customers now'],
          stages.map(([name, count]) => [name, num(count)]),
          [1],
          { name: 'stage', values: stages.map(([name]) => name) },
        ),
  );
}
