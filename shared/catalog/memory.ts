import { randomBytes } from 'node:crypto';
import { type Clock, isoAt } from '../clock.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { hashWriteKey, type WriteKeyStore } from '../http/auth.js';
import type { StateMachineDeployer } from './deployer.js';
import type { CatalogStore, JourneyRecord, JourneyVersionRecord, TemplateRecord } from './types.js';
import type { WriteKeyListing } from './write-keys.js';

const clone = <T>(value: T): T => structuredClone(value);

/** An in-memory CatalogStore with DynamoCatalogStore's semantics: for unit tests. */
export function memoryCatalogStore(): CatalogStore {
  const journeys = new Map<string, JourneyRecord>();
  const versions = new Map<string, JourneyVersionRecord>();
  const templates = new Map<string, TemplateRecord>();
  let stamp = 0;
  const check = (id: string, expected: number | undefined) => {
    const current = journeys.get(id);
    if (expected === undefined ? current !== undefined : current?.revision !== expected) {
      throw new ConflictError(`journey ${id} was changed by another request; read it again and retry`);
    }
  };
  return {
    getJourney: async (id) => clone(journeys.get(id)),
    listJourneys: async () => [...journeys.values()].sort((a, b) => a.id.localeCompare(b.id)).map(clone),
    async saveJourney(record, expected, options) {
      check(record.id, expected);
      journeys.set(record.id, clone(record));
      if (options?.statusChanged) stamp++;
    },
    async savePublished(head, expected, version) {
      check(head.id, expected);
      const key = `${version.journeyId}#${version.version}`;
      if (versions.has(key)) throw new ConflictError(`journey ${head.id} was published concurrently; retry`);
      versions.set(key, clone(version));
      journeys.set(head.id, clone(head));
      stamp++;
    },
    getVersion: async (id, version) => clone(versions.get(`${id}#${version}`)),
    listVersions: async (id) =>
      [...versions.values()]
        .filter((v) => v.journeyId === id)
        .sort((a, b) => b.version - a.version)
        .map(clone),
    getTemplate: async (id) => clone(templates.get(id)),
    listTemplates: async () => [...templates.values()].sort((a, b) => a.id.localeCompare(b.id)).map(clone),
    async saveTemplate(record) {
      templates.set(record.id, clone(record));
    },
    catalogStamp: async () => stamp,
  };
}

/** A deployer that records what it deployed and numbers versions like Step Functions does. */
export function fakeDeployer(): StateMachineDeployer & {
  deployed: { journeyId: string; definition: string }[];
} {
  const deployed: { journeyId: string; definition: string }[] = [];
  const counts = new Map<string, number>();
  return {
    deployed,
    async deploy({ journeyId, definition, stateMachineArn }) {
      deployed.push({ journeyId, definition });
      const arn = stateMachineArn ?? `arn:aws:states:us-east-1:000000000000:stateMachine:cairn-${journeyId}`;
      const n = (counts.get(arn) ?? 0) + 1;
      counts.set(arn, n);
      return { stateMachineArn: arn, versionArn: `${arn}:${n}` };
    },
  };
}

/** Write keys in memory, stored by hash like DynamoWriteKeyStore (unit tests). */
export class MemoryWriteKeyStore implements WriteKeyStore {
  private readonly keys = new Map<string, WriteKeyListing>();

  async findByHash(hash: string): Promise<{ source: string } | undefined> {
    const key = this.keys.get(hash);
    return key && !key.revoked ? { source: key.source } : undefined;
  }

  async create(source: string, clock: Clock): Promise<{ writeKey: string; keyId: string; source: string }> {
    const writeKey = randomBytes(24).toString('base64url');
    const keyId = hashWriteKey(writeKey);
    this.keys.set(keyId, { keyId, source, createdAt: isoAt(clock), revoked: false });
    return { writeKey, keyId, source };
  }

  async list(): Promise<WriteKeyListing[]> {
    return [...this.keys.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(clone);
  }

  async revoke(keyId: string, clock: Clock): Promise<void> {
    const key = this.keys.get(keyId);
    if (!key) throw new NotFoundError('no such write key');
    this.keys.set(keyId, { ...key, revoked: true, revokedAt: isoAt(clock) });
  }
}
