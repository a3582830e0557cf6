/**
 * `GET /journeys/{id}/report` and `/paths`, computed from pre-aggregated counters (summed over the
 * days asked for), never from executions: the same cost at a thousand customers or ten million.
 */

import { setOwn } from '../dictionary.js';
import type { JourneyNode } from '../journeys/nodes/index.js';
import type { Journey } from '../journeys/schema.js';
import { pathSeparator } from './counters.js';
import {
  type ArmCounts,
  type ExperimentVerdict,
  histogramMedian,
  judgeExperiment,
  type TimeBucket,
  testName,
  wilsonInterval,
} from './statistics.js';

export interface NodeReport {
  entered: number;
  completed: number;
  /** Left the journey at this node without reaching an exit or the goal (exitOn event, failure). */
  dropped: number;
  /**
   * Median seconds from entering this node to entering the next, from a histogram (exact when the
   * middle durations are equal, else within 4.43 % or 1 s: statistics.ts `histogramMedian`); null without data.
   */
  medianSecondsToNext: number | null;
}

export interface ArmReport {
  next: string;
  name: string;
  holdout: boolean;
  entered: number;
  conversions: number;
  rate: number;
  ci95: [number, number];
}

export interface ExperimentReport {
  node: string;
  arms: ArmReport[];
  test: string;
  pValue: number | null;
  significant: boolean;
  winner: string | null;
  note: string;
  uplift?: ExperimentVerdict['uplift'];
}

export interface MessageReport {
  channel: string;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
  openRate: number;
  clickRate: number;
}

export interface PathReport {
  nodes: string[];
  count: number;
  conversions: number;
}

export interface JourneyReport {
  journeyId: string;
  from?: string;
  to?: string;
  entered: number;
  goal: { conversions: number; rate: number };
  nodes: Record<string, NodeReport>;
  experiments: ExperimentReport[];
  paths: PathReport[];
  messages: Record<string, MessageReport>;
  suggestions: string[];
}

export interface PathLink {
  from: string;
  to: string;
  count: number;
}

const messageTypes = new Set(['email', 'sms', 'push']);
const rate = (part: number, whole: number) => (whole > 0 ? part / whole : 0);

/** How many paths the report lists (the most travelled first). */
export const topPaths = 20;

/**
 * The report of one journey. `journey` is the current definition (names the nodes, the split arms
 * and the message channels); `counters` are the analytics counters summed over the range, over
 * every version (nodes that exist only in older versions are reported too).
 */
export function buildReport(
  journey: Pick<Journey, 'id' | 'nodes'>,
  counters: Record<string, number>,
  range: { from?: string; to?: string } = {},
): JourneyReport {
  const get = (key: string) => counters[key] ?? 0;
  const entered = get('journey|started');
  const conversions = get('journey|conversions');

  const nodeIds = new Set(Object.keys(journey.nodes));
  const histograms = new Map<string, Record<number, TimeBucket>>();
  for (const [key, value] of Object.entries(counters)) {
    const [scope, nodeId, rest] = key.split('|');
    if (!nodeId) continue;
    if (scope === 'node') nodeIds.add(nodeId);
    if ((scope === 'tn' || scope === 'tms') && rest !== undefined) {
      const histogram = histograms.get(nodeId) ?? {};
      const bucket = histogram[Number(rest)] ?? { count: 0, sumMs: 0 };
      if (scope === 'tn') bucket.count += value;
      else bucket.sumMs += value;
      histogram[Number(rest)] = bucket;
      histograms.set(nodeId, histogram);
    }
  }
  const nodes: Record<string, NodeReport> = {};
  for (const nodeId of nodeIds) {
    setOwn(nodes, nodeId, {
      entered: get(`node|${nodeId}|entered`),
      completed: get(`node|${nodeId}|completed`),
      dropped: get(`end|${nodeId}|exitOn`) + get(`end|${nodeId}|failed`),
      medianSecondsToNext: roundOrNull(histogramMedian(histograms.get(nodeId) ?? {})),
    });
  }

  const experiments: ExperimentReport[] = [];
  for (const [nodeId, node] of Object.entries(journey.nodes)) {
    if (node.type !== 'split') continue;
    const arms: ArmReport[] = node.branches.map((branch, index) => {
      const armEntered = get(`node|${nodeId}|branch:${index}`);
      const armConversions = get(`arm|${nodeId}|${branch.next}|conversions`);
      return {
        next: branch.next,
        name: branch.name ?? branch.next,
        holdout: branch.holdout === true,
        entered: armEntered,
        conversions: armConversions,
        rate: rate(armConversions, armEntered),
        ci95: wilsonInterval(armConversions, armEntered),
      };
    });
    const verdict = judgeExperiment(
      arms.map(
        (arm): ArmCounts => ({
          key: arm.next,
          entered: arm.entered,
          conversions: arm.conversions,
          holdout: arm.holdout,
        }),
      ),
    );
    experiments.push({
      node: nodeId,
      arms,
      test: testName,
      pValue: verdict.pValue,
      significant: verdict.significant,
      winner: verdict.winner,
      note: namedNote(verdict.note, arms),
      ...(verdict.uplift && { uplift: verdict.uplift }),
    });
  }

  const paths: PathReport[] = [];
  for (const [key, value] of Object.entries(counters)) {
    if (!key.startsWith('path|') || !key.endsWith('|count')) continue;
    const path = key.slice('path|'.length, -'|count'.length);
    paths.push({
      nodes: path.split(pathSeparator),
      count: value,
      conversions: get(`path|${path}|conversions`),
    });
  }
  paths.sort((a, b) => b.count - a.count || a.nodes.join().localeCompare(b.nodes.join()));

  const messages: Record<string, MessageReport> = {};
  for (const nodeId of nodeIds) {
    const node: JourneyNode | undefined = journey.nodes[nodeId];
    if (!(node && messageTypes.has(node.type)) && get(`node|${nodeId}|sent`) === 0) continue;
    const delivered = get(`node|${nodeId}|delivered`);
    const opened = get(`node|${nodeId}|opened`);
    const clicked = get(`node|${nodeId}|clicked`);
    messages[nodeId] = {
      channel: node?.type ?? 'email',
      sent: get(`node|${nodeId}|sent`),
      delivered,
      opened,
      clicked,
      bounced: get(`node|${nodeId}|bounced`),
      complained: get(`node|${nodeId}|complained`),
      unsubscribed: get(`node|${nodeId}|unsubscribed`),
      openRate: rate(opened, delivered),
      clickRate: rate(clicked, delivered),
    };
  }

  const report: JourneyReport = {
    journeyId: journey.id,
    ...(range.from && { from: range.from }),
    ...(range.to && { to: range.to }),
    entered,
    goal: { conversions, rate: rate(conversions, entered) },
    nodes,
    experiments,
    paths: paths.slice(0, topPaths),
    messages,
    suggestions: [],
  };
  report.suggestions = suggestionsFor(report);
  return report;
}

/** The Sankey's links: transitions between nodes of ended executions, over every version. */
export function pathLinks(counters: Record<string, number>): PathLink[] {
  const links: PathLink[] = [];
  for (const [key, count] of Object.entries(counters)) {
    const [scope, from, to] = key.split('|');
    if (scope === 'edge' && from && to && count > 0) links.push({ from, to, count });
  }
  return links.sort((a, b) => b.count - a.count || `${a.from}|${a.to}`.localeCompare(`${b.from}|${b.to}`));
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}

/** The verdict's note with arm names instead of node ids. */
function namedNote(note: string, arms: ArmReport[]): string {
  let named = note;
  for (const arm of arms) {
    if (arm.name !== arm.next) named = named.replaceAll(new RegExp(`\\b${arm.next}\\b`, 'g'), arm.name);
  }
  return named;
}

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;

/** Fewest delivered messages before a node's open rate is compared with the journey's. */
const minimumDelivered = 50;

/** Plain-word suggestions the numbers support; nothing when they support nothing. */
export function suggestionsFor(report: Omit<JourneyReport, 'suggestions'>): string[] {
  const out: string[] = [];
  for (const experiment of report.experiments) {
    const winner = experiment.arms.find((arm) => arm.next === experiment.winner);
    if (experiment.significant && winner && experiment.pValue !== null) {
      const confidence = Math.floor((1 - experiment.pValue) * 1000) / 10;
      out.push(
        winner.holdout
          ? `At split ${experiment.node}, customers who got nothing (holdout) convert best: review what the other branches send.`
          : `Branch ${winner.name} wins at split ${experiment.node} with ${confidence}% confidence (${pct(winner.rate)} conversion): make it 100%.`,
      );
    }
    const uplift = experiment.uplift;
    if (uplift && experiment.arms.every((arm) => arm.entered >= 30)) {
      out.push(
        uplift.pValue < 0.001
          ? `The journey adds ${(uplift.absolute * 100).toFixed(1)} points of conversion over the holdout at split ${experiment.node}.`
          : `No measurable uplift over the holdout at split ${experiment.node} yet.`,
      );
    }
  }
  const messages = Object.entries(report.messages).filter(([, m]) => m.delivered >= minimumDelivered);
  const delivered = messages.reduce((sum, [, m]) => sum + m.delivered, 0);
  const opened = messages.reduce((sum, [, m]) => sum + m.opened, 0);
  const average = rate(opened, delivered);
  if (messages.length >= 2 && average > 0) {
    for (const [nodeId, message] of messages) {
      if (message.openRate > 0 && average / message.openRate >= 2) {
        out.push(
          `The ${message.channel} at node ${nodeId} is opened ${(average / message.openRate).toFixed(1)}× less than the journey average (${pct(message.openRate)} vs ${pct(average)}): try another subject or send time.`,
        );
      } else if (message.openRate === 0 && message.delivered >= minimumDelivered) {
        out.push(`Nobody opened the ${message.channel} at node ${nodeId} (${message.delivered} delivered).`);
      }
    }
  }
  const drops = Object.entries(report.nodes).filter(([, n]) => n.dropped > 0);
  const totalDropped = drops.reduce((sum, [, n]) => sum + n.dropped, 0);
  const worst = drops.sort((a, b) => b[1].dropped - a[1].dropped)[0];
  if (worst && totalDropped >= 20 && worst[1].dropped / totalDropped >= 0.5) {
    out.push(
      `Most customers who leave early leave at node ${worst[0]} (${worst[1].dropped} of ${totalDropped}).`,
    );
  }
  return out;
}
