/**
 * `npm start` publishes the example journeys in statemachines/ through the public HTTP API, exactly
 * as a user would with curl: templates first (`templates/<id>.template.yaml` → `PUT /templates/{id}`),
 * computed traits and scores, segments (`segments/<id>.segment.yaml` → `PUT /segments/{id}`), then each journey (`PUT /journeys/{id}` with the YAML, `POST /journeys/{id}/publish`).
 *
 * Hook for the journeys work: where templates live and how a journey is published may change; keep
 * this function's name and signature (the CLI calls it) and adapt its body.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadTemplate, templateFiles } from '../../statemachines/artifacts.js';
import { derivedFiles } from '../../statemachines/derived.js';
import { segmentsInOrder } from '../../statemachines/segments.js';

export interface PublishTarget {
  httpUrl: string;
  apiToken: string;
  /** Folder with `*.journey.yaml` and a `templates/` folder. Default `statemachines`. */
  folder?: string;
}

export interface PublishOutcome {
  published: string[];
  failed: { id: string; reason: string }[];
}

export async function publishExampleJourneys(target: PublishTarget): Promise<PublishOutcome> {
  const folder = target.folder ?? 'statemachines';
  const outcome: PublishOutcome = { published: [], failed: [] };
  if (!existsSync(folder)) return outcome;
  const call = async (method: string, path: string, body?: string, contentType = 'application/json') => {
    const response = await fetch(`${target.httpUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.apiToken}`, 'content-type': contentType },
      body,
    });
    if (!response.ok) {
      const text = await response.text();
      throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 300)}`);
    }
  };

  for (const file of templateFiles(join(folder, 'templates'))) {
    let id = file;
    try {
      const { id: templateId, ...body } = loadTemplate(file);
      id = templateId;
      await call('PUT', `/templates/${encodeURIComponent(id)}`, JSON.stringify(body));
    } catch (error) {
      outcome.failed.push({
        id: `template ${id}`,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  // Computed traits and scores before the journeys that may branch on them.
  for (const { kind, id, body } of derivedFiles(folder)) {
    try {
      await call('PUT', `/${kind}s/${encodeURIComponent(id)}`, JSON.stringify(body ?? {}));
    } catch (error) {
      outcome.failed.push({
        id: `${kind} ${id}`,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  // Segments (`segments/<id>.segment.yaml`), dependencies first, before the journeys they trigger.
  let segments: ReturnType<typeof segmentsInOrder> = [];
  try {
    segments = segmentsInOrder(folder);
  } catch (error) {
    outcome.failed.push({ id: 'segments', reason: error instanceof Error ? error.message : String(error) });
  }
  for (const { $schema: _schema, ...segment } of segments) {
    try {
      await call('PUT', `/segments/${encodeURIComponent(segment.id)}`, JSON.stringify(segment));
    } catch (error) {
      outcome.failed.push({
        id: `segment ${segment.id}`,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  for (const file of readdirSync(folder).sort()) {
    if (!file.endsWith('.journey.yaml')) continue;
    const id = basename(file, '.journey.yaml');
    try {
      await call(
        'PUT',
        `/journeys/${encodeURIComponent(id)}`,
        readFileSync(join(folder, file), 'utf8'),
        'application/yaml',
      );
      await call('POST', `/journeys/${encodeURIComponent(id)}/publish`);
      outcome.published.push(id);
    } catch (error) {
      outcome.failed.push({ id, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return outcome;
}
