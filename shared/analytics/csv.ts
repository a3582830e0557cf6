/**
 * CSV exports of a report (RFC 4180: CRLF, quoted when needed). Cells that a spreadsheet would run
 * as a formula (starting with = + - @ or a tab/CR) are prefixed with `'` (OWASP CSV injection).
 */
import type { JourneyReport } from './report.js';

export const csvTables = ['nodes', 'messages', 'experiments', 'paths'] as const;
export type CsvTable = (typeof csvTables)[number];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'number' ? String(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function toCsv(header: string[], rows: unknown[][]): string {
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** One table of the report as CSV. */
export function reportCsv(report: JourneyReport, table: CsvTable): string {
  switch (table) {
    case 'nodes':
      return toCsv(
        ['node', 'entered', 'completed', 'dropped', 'medianSecondsToNext'],
        Object.entries(report.nodes).map(([id, n]) => [
          id,
          n.entered,
          n.completed,
          n.dropped,
          n.medianSecondsToNext,
        ]),
      );
    case 'messages':
      return toCsv(
        [
          'node',
          'channel',
          'sent',
          'delivered',
          'opened',
          'clicked',
          'bounced',
          'complained',
          'unsubscribed',
          'openRate',
          'clickRate',
        ],
        Object.entries(report.messages).map(([id, m]) => [
          id,
          m.channel,
          m.sent,
          m.delivered,
          m.opened,
          m.clicked,
          m.bounced,
          m.complained,
          m.unsubscribed,
          m.openRate,
          m.clickRate,
        ]),
      );
    case 'experiments':
      return toCsv(
        [
          'split',
          'arm',
          'name',
          'holdout',
          'entered',
          'conversions',
          'rate',
          'ci95Low',
          'ci95High',
          'pValue',
          'significant',
          'winner',
          'note',
        ],
        report.experiments.flatMap((e) =>
          e.arms.map((a) => [
            e.node,
            a.next,
            a.name,
            a.holdout,
            a.entered,
            a.conversions,
            a.rate,
            a.ci95[0],
            a.ci95[1],
            e.pValue,
            e.significant,
            e.winner,
            e.note,
          ]),
        ),
      );
    case 'paths':
      return toCsv(
        ['path', 'count', 'conversions'],
        report.paths.map((p) => [p.nodes.join(' > '), p.count, p.conversions]),
      );
  }
}
