/**
 * The analytics routes' domain side: `GET /journeys/{id}/report` (JSON or CSV) and `/paths`.
 * Reads: the journey head (catalog, one GetItem) and the day counters of the range (one paginated
 * Query, ~8 items a day), whatever the number of executions.
 */
import { ValidationError } from '../errors.js';
import type { Journey } from '../journeys/schema.js';
import { type CsvTable, csvTables, reportCsv } from './csv.js';
import { buildReport, type JourneyReport, type PathLink, pathLinks } from './report.js';
import type { AnalyticsReader } from './store.js';

export interface ReportQuery {
  from?: string;
  to?: string;
}

export interface AnalyticsApiDeps {
  reader: Pick<AnalyticsReader, 'readCounters'>;
  /** The journey's current definition (published, else the draft); NotFoundError when unknown. */
  definition(journeyId: string): Promise<Pick<Journey, 'id' | 'nodes'>>;
}

const isoDay = /^\d{4}-\d{2}-\d{2}/;

/** `from` / `to` as UTC days (`yyyy-mm-dd`); ISO-8601 dates or date-times are accepted. */
export function parseRange(query: Record<string, string | undefined>): ReportQuery {
  const range: ReportQuery = {};
  const issues: { path: string[]; message: string }[] = [];
  for (const name of ['from', 'to'] as const) {
    const raw = query[name];
    if (raw === undefined || raw === '') continue;
    const ms = Date.parse(raw);
    if (!isoDay.test(raw) || Number.isNaN(ms)) {
      issues.push({ path: [name], message: `${name} must be an ISO-8601 date such as 2026-03-01` });
      continue;
    }
    range[name] = new Date(ms).toISOString().slice(0, 10);
  }
  if (range.from && range.to && range.from > range.to)
    issues.push({ path: ['from'], message: 'from must not be after to' });
  if (issues.length > 0) throw new ValidationError(issues);
  return range;
}

export function createAnalyticsApi(deps: AnalyticsApiDeps) {
  async function report(
    journeyId: string,
    query: Record<string, string | undefined>,
  ): Promise<JourneyReport> {
    const range = parseRange(query);
    const [definition, counters] = await Promise.all([
      deps.definition(journeyId),
      deps.reader.readCounters(journeyId, range),
    ]);
    return buildReport(definition, counters, range);
  }
  return {
    report,
    /** One table of the report as CSV (`table`: nodes, messages, experiments, paths). */
    async reportCsv(journeyId: string, query: Record<string, string | undefined>): Promise<string> {
      const table = (query.table ?? 'nodes') as CsvTable;
      if (!csvTables.includes(table)) {
        throw new ValidationError([
          { path: ['table'], message: `table must be one of ${csvTables.join(', ')}` },
        ]);
      }
      return reportCsv(await report(journeyId, query), table);
    },
    async paths(
      journeyId: string,
      query: Record<string, string | undefined>,
    ): Promise<{ journeyId: string; links: PathLink[] } & ReportQuery> {
      const range = parseRange(query);
      await deps.definition(journeyId);
      return { journeyId, ...range, links: pathLinks(await deps.reader.readCounters(journeyId, range)) };
    },
  };
}

export type AnalyticsApi = ReturnType<typeof createAnalyticsApi>;
