import { randomUUID } from 'node:crypto';
import { AwsServiceError } from '../edge.js';
import { type ApiInput, optionalString, page, requireName, requireString, seconds } from './api.js';
import type { VirtualClock } from './clock.js';
import { compileDefinition, parseDefinition } from './definition.js';
import type { Alias, Machine, Revision, Version } from './model.js';

export interface StateMachinesOptions {
  clock: VirtualClock;
  region: string;
  account: string;
  /** Called after every change worth keeping (the registry file is written from `machines`). */
  changed(): void;
}

/**
 * State machines, their revisions, versions and aliases: the `*StateMachine*` API calls and the
 * ARN lookups the other calls resolve through.
 */
export class StateMachines {
  readonly machines = new Map<string, Machine>();
  readonly revisions = new Map<string, Revision>();
  private readonly clock: VirtualClock;
  private readonly region: string;
  private readonly account: string;
  private readonly changed: () => void;

  constructor(options: StateMachinesOptions) {
    this.clock = options.clock;
    this.region = options.region;
    this.account = options.account;
    this.changed = options.changed;
  }

  create(input: ApiInput): unknown {
    const name = requireName(input.name, 'name');
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD')
      throw new AwsServiceError(
        'ValidationException',
        'The local Step Functions runs STANDARD state machines only',
      );
    const definition = String(input.definition ?? '');
    const roleArn = requireString(input.roleArn, 'roleArn');
    const existing = this.machines.get(name);
    if (existing && existing.status === 'ACTIVE') {
      if (existing.latest.definition !== definition || existing.latest.roleArn !== roleArn) {
        throw new AwsServiceError(
          'StateMachineAlreadyExists',
          `State Machine Already Exists: '${existing.arn}'`,
        );
      }
      const version = this.publishIfAsked(existing, input);
      return {
        stateMachineArn: existing.arn,
        creationDate: seconds(existing.createdAt),
        stateMachineVersionArn: version?.arn,
      };
    }
    if (existing)
      throw new AwsServiceError('StateMachineDeleting', `State Machine is being deleted: '${existing.arn}'`);
    const revision = this.newRevision(definition, roleArn);
    const machine = this.add({
      name,
      createdAt: this.clock.now(),
      status: 'ACTIVE',
      latest: revision,
      nextVersion: 1,
    });
    const version = this.publishIfAsked(machine, input);
    this.changed();
    return {
      stateMachineArn: machine.arn,
      creationDate: seconds(machine.createdAt),
      stateMachineVersionArn: version?.arn,
    };
  }

  update(input: ApiInput): unknown {
    const machine = this.unqualified(input.stateMachineArn);
    if (input.definition === undefined && input.roleArn === undefined && input.publish !== true) {
      throw new AwsServiceError(
        'MissingRequiredParameter',
        'Either the definition, the roleArn or publish must be given',
      );
    }
    const definition = input.definition === undefined ? machine.latest.definition : String(input.definition);
    const roleArn =
      input.roleArn === undefined ? machine.latest.roleArn : requireString(input.roleArn, 'roleArn');
    if (definition !== machine.latest.definition || roleArn !== machine.latest.roleArn) {
      machine.latest = this.newRevision(definition, roleArn);
      machine.updatedAt = this.clock.now();
    }
    const version = this.publishIfAsked(machine, input);
    this.changed();
    return {
      updateDate: seconds(machine.updatedAt ?? this.clock.now()),
      revisionId: machine.latest.id,
      stateMachineVersionArn: version?.arn,
    };
  }

  publishVersion(input: ApiInput): unknown {
    const machine = this.unqualified(input.stateMachineArn);
    if (input.revisionId !== undefined && input.revisionId !== machine.latest.id) {
      throw new AwsServiceError(
        'ConflictException',
        `The revisionId ${String(input.revisionId)} is not the latest revision of ${machine.arn}`,
      );
    }
    const version = this.publishLatest(machine, optionalString(input.description));
    this.changed();
    return { creationDate: seconds(version.createdAt), stateMachineVersionArn: version.arn };
  }

  describe(input: ApiInput): unknown {
    const { machine, version, alias } = this.resolve(input.stateMachineArn);
    if (alias)
      throw new AwsServiceError('ValidationException', 'Use DescribeStateMachineAlias for an alias ARN');
    const revision = version?.revision ?? machine.latest;
    return {
      stateMachineArn: version?.arn ?? machine.arn,
      name: machine.name,
      status: machine.status,
      definition: revision.definition,
      roleArn: revision.roleArn,
      type: 'STANDARD',
      creationDate: seconds(version?.createdAt ?? machine.createdAt),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
      revisionId: revision.id,
      description: version?.description,
    };
  }

  list(input: ApiInput): unknown {
    const all = [...this.machines.values()]
      .filter((machine) => machine.status === 'ACTIVE')
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: 'STANDARD',
        creationDate: seconds(machine.createdAt),
      }));
    const { items, nextToken } = page(all, input.maxResults, input.nextToken, 100);
    return { stateMachines: items, nextToken };
  }

  listVersions(input: ApiInput): unknown {
    const machine = this.unqualified(input.stateMachineArn);
    const all = [...machine.versions.values()]
      .sort((a, b) => b.number - a.number)
      .map((version) => ({ stateMachineVersionArn: version.arn, creationDate: seconds(version.createdAt) }));
    const { items, nextToken } = page(all, input.maxResults, input.nextToken, 100);
    return { stateMachineVersions: items, nextToken };
  }

  /** Like AWS: the machine goes DELETING; running executions go on; it is gone once they end. */
  delete(input: ApiInput): unknown {
    const arn = requireString(input.stateMachineArn, 'stateMachineArn');
    const parsed = parseMachineArn(arn);
    const machine = this.machines.get(parsed.name);
    if (!machine) return {};
    if (parsed.qualifier !== undefined) {
      // Deleting a version (DeleteStateMachineVersion is the proper call; AWS rejects this).
      throw new AwsServiceError(
        'ValidationException',
        'DeleteStateMachine takes an unqualified state machine ARN',
      );
    }
    machine.status = 'DELETING';
    this.purgeIfDone(machine);
    this.changed();
    return {};
  }

  /** A DELETING machine goes once none of its executions runs; they stay describable (as on AWS for a while). */
  purgeIfDone(machine: Machine): void {
    if (machine.status !== 'DELETING') return;
    for (const exec of machine.executions.values()) if (exec.status === 'RUNNING') return;
    if (this.machines.get(machine.name) === machine) this.machines.delete(machine.name);
    this.changed();
  }

  createAlias(input: ApiInput): unknown {
    const name = requireName(input.name, 'name');
    if (/^\d+$/.test(name)) throw new AwsServiceError('InvalidName', 'An alias name cannot be a number');
    const routing = this.parseRouting(input.routingConfiguration);
    const machine = this.resolve(routing[0]!.stateMachineVersionArn).machine;
    const existing = machine.aliases.get(name);
    if (existing) {
      // Idempotent like AWS: the same alias again is fine, a different one is a conflict.
      const same =
        JSON.stringify(existing.routing) === JSON.stringify(routing) &&
        existing.description === optionalString(input.description);
      if (!same) throw new AwsServiceError('ConflictException', `Alias ${name} already exists`);
      return { stateMachineAliasArn: existing.arn, creationDate: seconds(existing.createdAt) };
    }
    const alias: Alias = {
      name,
      arn: `${machine.arn}:${name}`,
      description: optionalString(input.description),
      routing,
      createdAt: this.clock.now(),
    };
    machine.aliases.set(name, alias);
    this.changed();
    return { stateMachineAliasArn: alias.arn, creationDate: seconds(alias.createdAt) };
  }

  updateAlias(input: ApiInput): unknown {
    const { alias } = this.resolve(input.stateMachineAliasArn);
    if (!alias) throw new AwsServiceError('InvalidArn', 'Not a state machine alias ARN');
    if (input.routingConfiguration !== undefined)
      alias.routing = this.parseRouting(input.routingConfiguration);
    if (input.description !== undefined) alias.description = optionalString(input.description);
    alias.updatedAt = this.clock.now();
    this.changed();
    return { updateDate: seconds(alias.updatedAt) };
  }

  describeAlias(input: ApiInput): unknown {
    const { alias } = this.resolve(input.stateMachineAliasArn);
    if (!alias) throw new AwsServiceError('InvalidArn', 'Not a state machine alias ARN');
    return {
      stateMachineAliasArn: alias.arn,
      name: alias.name,
      description: alias.description,
      routingConfiguration: alias.routing,
      creationDate: seconds(alias.createdAt),
      updateDate: alias.updatedAt === undefined ? undefined : seconds(alias.updatedAt),
    };
  }

  deleteAlias(input: ApiInput): unknown {
    const { machine, alias } = this.resolve(input.stateMachineAliasArn);
    if (alias) machine.aliases.delete(alias.name);
    this.changed();
    return {};
  }

  /** The version an execution started on an alias runs: picked by the routing weights. */
  pickAliasVersion(machine: Machine, alias: Alias): Version {
    let roll = Math.random() * 100;
    for (const route of alias.routing) {
      roll -= route.weight;
      if (roll < 0 || route === alias.routing[alias.routing.length - 1]) {
        const version = this.resolve(route.stateMachineVersionArn).version;
        if (version) return version;
      }
    }
    throw new AwsServiceError(
      'StateMachineDoesNotExist',
      `The alias ${alias.arn} routes to no existing version of ${machine.arn}`,
    );
  }

  /** A machine, version or alias ARN, with AWS's errors for malformed and unknown ones. */
  resolve(value: unknown): { machine: Machine; version?: Version; alias?: Alias } {
    const { name, qualifier } = parseMachineArn(value);
    const machine = this.machines.get(name);
    if (!machine)
      throw new AwsServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${String(value)}'`,
      );
    if (qualifier === undefined) return { machine };
    if (/^\d+$/.test(qualifier)) {
      const version = machine.versions.get(Number(qualifier));
      if (!version)
        throw new AwsServiceError(
          'StateMachineDoesNotExist',
          `State Machine Version Does Not Exist: '${String(value)}'`,
        );
      return { machine, version };
    }
    const alias = machine.aliases.get(qualifier);
    if (!alias)
      throw new AwsServiceError('ResourceNotFound', `State Machine Alias Does Not Exist: '${String(value)}'`);
    return { machine, alias };
  }

  /** Adds a machine (created, or restored from the registry file). */
  add(
    init: Pick<Machine, 'name' | 'createdAt' | 'updatedAt' | 'status' | 'latest' | 'nextVersion'>,
  ): Machine {
    const machine: Machine = {
      ...init,
      arn: `arn:aws:states:${this.region}:${this.account}:stateMachine:${init.name}`,
      versions: new Map(),
      aliases: new Map(),
      executions: new Map(),
    };
    this.machines.set(machine.name, machine);
    return machine;
  }

  newRevision(
    definitionText: string,
    roleArn: string,
    id: string = randomUUID(),
    createdAt = this.clock.now(),
  ): Revision {
    const definition = parseDefinition(definitionText);
    const compiled = compileDefinition(definition);
    const retryOverrides: Record<string, number> = {};
    // Retry pauses are short real delays: a retried local Lambda gains nothing from waiting.
    for (const name of compiled.retrying) retryOverrides[name] = 0;
    const revision: Revision = {
      id,
      definition: definitionText,
      roleArn,
      createdAt,
      compiled,
      retryOverrides,
    };
    this.revisions.set(id, revision);
    return revision;
  }

  private publishIfAsked(machine: Machine, input: ApiInput): Version | undefined {
    return input.publish === true
      ? this.publishLatest(machine, optionalString(input.versionDescription))
      : undefined;
  }

  /** Publishing a revision that already is a version returns that version, as AWS does. */
  private publishLatest(machine: Machine, description: string | undefined): Version {
    for (const version of machine.versions.values()) if (version.revision === machine.latest) return version;
    const number = machine.nextVersion++;
    const version: Version = {
      number,
      arn: `${machine.arn}:${number}`,
      revision: machine.latest,
      description,
      createdAt: this.clock.now(),
    };
    machine.versions.set(number, version);
    return version;
  }

  private unqualified(value: unknown): Machine {
    const resolved = this.resolve(value);
    if (resolved.version || resolved.alias)
      throw new AwsServiceError('ValidationException', 'Expected an unqualified state machine ARN');
    if (resolved.machine.status !== 'ACTIVE')
      throw new AwsServiceError(
        'StateMachineDeleting',
        `State Machine is being deleted: '${resolved.machine.arn}'`,
      );
    return resolved.machine;
  }

  private parseRouting(value: unknown): Alias['routing'] {
    if (!Array.isArray(value) || value.length < 1 || value.length > 2) {
      throw new AwsServiceError('ValidationException', 'routingConfiguration must have one or two entries');
    }
    const routing = value.map((entry: { stateMachineVersionArn?: unknown; weight?: unknown }) => {
      const arn = requireString(entry.stateMachineVersionArn, 'stateMachineVersionArn');
      if (!this.resolve(arn).version)
        throw new AwsServiceError('ValidationException', `${arn} is not a state machine version`);
      const weight = Number(entry.weight);
      if (!Number.isInteger(weight) || weight < 0 || weight > 100)
        throw new AwsServiceError('ValidationException', 'weight must be 0..100');
      return { stateMachineVersionArn: arn, weight };
    });
    if (routing.reduce((sum, entry) => sum + entry.weight, 0) !== 100)
      throw new AwsServiceError('ValidationException', 'weights must sum to 100');
    return routing;
  }
}

export function validateDefinition(input: ApiInput): unknown {
  try {
    compileDefinition(parseDefinition(input.definition));
    return { result: 'OK', diagnostics: [] };
  } catch (error) {
    const message = (error as Error).message;
    return {
      result: 'FAIL',
      diagnostics: [{ severity: 'ERROR', code: 'SCHEMA_VALIDATION_FAILED', message }],
    };
  }
}

function parseMachineArn(value: unknown): { name: string; qualifier?: string } {
  const arn = requireString(value, 'stateMachineArn');
  const match = /^arn:aws[\w-]*:states:[^:]+:\d{12}:stateMachine:([^:]+)(?::([^:]+))?$/.exec(arn);
  if (!match) throw new AwsServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
  return { name: match[1]!, qualifier: match[2] };
}
