/** The journey graph (dagre layout), the experiment chart with its intervals, and the Sankey of paths. */
import dagre from '@dagrejs/dagre';
import { sankey, sankeyLinkHorizontal } from 'd3-sankey';
import { num, pct, s } from './dom.js';

// biome-ignore lint/suspicious/noExplicitAny: journey definitions as the API returns them
type Definition = { start: string; nodes: Record<string, any> };

/** Where a node leads, for every node type of the journey language. */
// biome-ignore lint/suspicious/noExplicitAny: as Definition
export function linksOf(node: any): string[] {
  const targets: string[] = [];
  for (const key of ['next', 'then', 'else', 'default'])
    if (typeof node[key] === 'string') targets.push(node[key]);
  for (const item of [...(node.cases ?? []), ...(node.branches ?? [])])
    if (item?.next) targets.push(item.next);
  return [...new Set(targets)];
}

export interface NodeCounts {
  entered: number;
  completed: number;
  dropped: number;
}

/** The journey graph: one `g.node` per node (data-node, data-entered), counts in text, click to select. */
export function journeyGraph(
  definition: Definition,
  counts: Record<string, NodeCounts | undefined>,
  selected: string | undefined,
  onSelect: (nodeId: string) => void,
): SVGElement {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  const width = 150;
  const height = 58;
  for (const id of Object.keys(definition.nodes)) graph.setNode(id, { width, height });
  for (const [id, node] of Object.entries(definition.nodes)) {
    for (const target of linksOf(node)) if (definition.nodes[target]) graph.setEdge(id, target);
  }
  dagre.layout(graph);
  const box = graph.graph();
  const svg = s('svg', {
    class: 'journey-graph',
    viewBox: `0 0 ${Math.ceil(box.width ?? 400)} ${Math.ceil(box.height ?? 200)}`,
    width: Math.ceil(box.width ?? 400),
    role: 'img',
    'aria-label': 'Journey graph with customers per node',
  });
  svg.append(
    s(
      'defs',
      {},
      s(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }),
      ),
    ),
  );
  for (const edge of graph.edges()) {
    const points = graph.edge(edge).points ?? [];
    const d = points
      .map(
        (p: { x: number; y: number }, i: number) =>
          `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`,
      )
      .join(' ');
    svg.append(s('path', { class: 'edge', d, 'marker-end': 'url(#arrow)' }));
  }
  for (const id of graph.nodes()) {
    const layout = graph.node(id);
    const node = definition.nodes[id];
    const c = counts[id] ?? { entered: 0, completed: 0, dropped: 0 };
    const x = layout.x - width / 2;
    const y = layout.y - height / 2;
    const group = s(
      'g',
      {
        class: `node${id === selected ? ' selected' : ''}`,
        'data-node': id,
        'data-entered': c.entered,
        'data-dropped': c.dropped,
        tabindex: 0,
        role: 'button',
        'aria-label': `${id} (${node?.type}): ${c.entered} entered, ${c.dropped} dropped`,
        onclick: () => onSelect(id),
        onkeydown: (event) => {
          if ((event as KeyboardEvent).key === 'Enter') onSelect(id);
        },
      },
      s('rect', { x, y, width, height, rx: 6 }),
      s('text', { x: x + 8, y: y + 17 }, `${id}`),
      s('text', { x: x + 8, y: y + 32, class: 'muted' }, node?.type ?? ''),
      s('text', { x: x + 8, y: y + 49, class: 'count' }, `${num(c.entered)} in`),
      c.dropped > 0 ? s('text', { x: x + 80, y: y + 49, class: 'drop' }, `${num(c.dropped)} left ▼`) : null,
    );
    svg.append(group);
  }
  return svg;
}

/** Conversion rate per arm with its 95 % interval drawn as a line with end ticks; the winner labelled. */
/** What the chart reads of a report arm (shared/analytics/report.ts `ArmReport`). */
type ArmView = { next: string; name: string; holdout: boolean; rate: number; ci95: [number, number] };

export function experimentChart(arms: ArmView[], winner: string | null): SVGElement {
  const rowHeight = 34;
  const left = 130;
  const plot = 360;
  const max = Math.max(0.05, ...arms.map((arm) => arm.ci95[1]));
  const x = (rate: number) => left + (rate / max) * plot;
  const svg = s('svg', {
    class: 'experiment-chart',
    viewBox: `0 0 ${left + plot + 240} ${arms.length * rowHeight + 24}`,
    width: left + plot + 240,
    role: 'img',
    'aria-label': 'Conversion rate per arm with 95% confidence interval',
  });
  arms.forEach((arm, i) => {
    const y = 8 + i * rowHeight;
    const isWinner = arm.next === winner;
    svg.append(
      s('text', { x: 0, y: y + 15 }, `${arm.name}${arm.holdout ? ' (holdout)' : ''}`),
      s('rect', {
        class: `bar-rate${isWinner ? ' winner' : ''}${arm.holdout ? ' holdout' : ''}`,
        x: left,
        y: y + 2,
        width: Math.max(1, x(arm.rate) - left),
        height: 18,
      }),
      s('line', { class: 'ci', x1: x(arm.ci95[0]), x2: x(arm.ci95[1]), y1: y + 11, y2: y + 11 }),
      s('line', { class: 'ci', x1: x(arm.ci95[0]), x2: x(arm.ci95[0]), y1: y + 4, y2: y + 18 }),
      s('line', { class: 'ci', x1: x(arm.ci95[1]), x2: x(arm.ci95[1]), y1: y + 4, y2: y + 18 }),
      s(
        'text',
        { x: left + plot + 8, y: y + 15, 'data-arm': arm.next },
        `${pct(arm.rate)} [${pct(arm.ci95[0])}–${pct(arm.ci95[1])}]${isWinner ? ' ★ winner' : ''}`,
      ),
    );
  });
  return svg;
}

/** The Sankey of the paths' transitions; a message instead when the links loop (a Sankey cannot draw loops). */
export function sankeyChart(links: { from: string; to: string; count: number }[]): SVGElement | string {
  if (links.length === 0) return 'No finished journeys in this period yet.';
  const ids = [...new Set(links.flatMap((link) => [link.from, link.to]))];
  const width = 720;
  const height = Math.max(160, ids.length * 28);
  try {
    const layout = sankey<{ id: string }, { source: number; target: number; value: number }>()
      .nodeWidth(12)
      .nodePadding(14)
      .extent([
        [1, 1],
        [width - 120, height - 1],
      ]);
    const graph = layout({
      nodes: ids.map((id) => ({ id })),
      links: links.map((link) => ({
        source: ids.indexOf(link.from),
        target: ids.indexOf(link.to),
        value: link.count,
      })),
    });
    const svg = s('svg', {
      class: 'sankey',
      viewBox: `0 0 ${width} ${height}`,
      width,
      role: 'img',
      'aria-label': 'Paths customers took',
    });
    const path = sankeyLinkHorizontal();
    for (const link of graph.links) {
      const source = link.source as unknown as { id: string };
      const target = link.target as unknown as { id: string };
      svg.append(
        s(
          'path',
          {
            class: 'sankey-link',
            d: path(link as never) ?? '',
            'stroke-width': Math.max(1, link.width ?? 1),
            'data-from': source.id,
            'data-to': target.id,
            'data-count': link.value,
          },
          s('title', {}, `${source.id} → ${target.id}: ${num(link.value)}`),
        ),
      );
    }
    for (const node of graph.nodes) {
      svg.append(
        s('rect', {
          class: 'sankey-node',
          x: node.x0 ?? 0,
          y: node.y0 ?? 0,
          width: (node.x1 ?? 0) - (node.x0 ?? 0),
          height: Math.max(1, (node.y1 ?? 0) - (node.y0 ?? 0)),
        }),
        s(
          'text',
          { x: (node.x1 ?? 0) + 6, y: ((node.y0 ?? 0) + (node.y1 ?? 0)) / 2 + 4 },
          `${node.id} (${num(node.value ?? 0)})`,
        ),
      );
    }
    return svg;
  } catch {
    return 'These paths loop back on themselves, which a Sankey cannot draw: see the paths table.';
  }
}
