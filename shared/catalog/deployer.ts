import {
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  ListStateMachinesCommand,
  type SFNClient,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';

/** Deploys a journey's compiled ASL as a new, immutable state machine version. */
export interface StateMachineDeployer {
  deploy(input: {
    journeyId: string;
    /** ASL JSON with placeholders already substituted. */
    definition: string;
    /** The state machine from an earlier publish, when there was one. */
    stateMachineArn?: string;
    description?: string;
  }): Promise<{ stateMachineArn: string; versionArn: string; aliasArn?: string }>;
}

export interface SfnDeployerOptions {
  /** Execution role of journey state machines (`CAIRN_STATE_MACHINE_ROLE_ARN`). */
  roleArn: string;
  /** Name prefix (`CAIRN_STATE_MACHINE_PREFIX`, default `cairn-`); IAM scopes the api role to it. */
  namePrefix?: string;
  /**
   * Alias moved to each new version (`CAIRN_JOURNEY_ALIAS`, default `live`, as for journeys CDK
   * deploys), so the console and operators see which version takes new entries. Executions start on
   * the version ARN itself. Empty string: no alias.
   */
  aliasName?: string;
}

/** State machine names allow 80 characters of `[A-Za-z0-9-_]`. */
export function stateMachineName(prefix: string, journeyId: string): string {
  return `${prefix}${journeyId}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}

/**
 * Step Functions deploys: CreateStateMachine(publish) the first time, UpdateStateMachine(publish)
 * after, so each publish is a new version and running executions keep theirs; then the alias is
 * moved to it. 2 calls per publish (more when recovering a state machine the catalog lost track of).
 */
export function sfnDeployer(client: SFNClient, options: SfnDeployerOptions): StateMachineDeployer {
  const prefix = options.namePrefix ?? 'cairn-';
  const aliasName = options.aliasName ?? 'live';

  async function pointAlias(stateMachineArn: string, versionArn: string, created: boolean) {
    if (!aliasName) return undefined;
    const routingConfiguration = [{ stateMachineVersionArn: versionArn, weight: 100 }];
    if (!created) {
      const stateMachineAliasArn = `${stateMachineArn}:${aliasName}`;
      try {
        await client.send(new UpdateStateMachineAliasCommand({ stateMachineAliasArn, routingConfiguration }));
        return stateMachineAliasArn;
      } catch (error) {
        if (!['ResourceNotFound', 'InvalidArn'].includes((error as Error).name)) throw error;
      }
    }
    const out = await client.send(
      new CreateStateMachineAliasCommand({
        name: aliasName,
        routingConfiguration,
        description: 'New entries start on this version',
      }),
    );
    return out.stateMachineAliasArn;
  }

  async function update(stateMachineArn: string, definition: string, description?: string) {
    const out = await client.send(
      new UpdateStateMachineCommand({
        stateMachineArn,
        definition,
        roleArn: options.roleArn,
        publish: true,
        versionDescription: description,
      }),
    );
    if (!out.stateMachineVersionArn) throw new Error('UpdateStateMachine returned no version ARN');
    const aliasArn = await pointAlias(stateMachineArn, out.stateMachineVersionArn, false);
    return { stateMachineArn, versionArn: out.stateMachineVersionArn, aliasArn };
  }

  async function findByName(name: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const out = await client.send(new ListStateMachinesCommand({ nextToken, maxResults: 1000 }));
      const found = out.stateMachines?.find((machine) => machine.name === name);
      if (found?.stateMachineArn) return found.stateMachineArn;
      nextToken = out.nextToken;
    } while (nextToken);
    return undefined;
  }

  return {
    async deploy({ journeyId, definition, stateMachineArn, description }) {
      if (stateMachineArn) {
        try {
          return await update(stateMachineArn, definition, description);
        } catch (error) {
          if ((error as Error).name !== 'StateMachineDoesNotExist') throw error;
        }
      }
      const name = stateMachineName(prefix, journeyId);
      try {
        const out = await client.send(
          new CreateStateMachineCommand({
            name,
            definition,
            roleArn: options.roleArn,
            type: 'STANDARD',
            publish: true,
            versionDescription: description,
          }),
        );
        if (!out.stateMachineArn || !out.stateMachineVersionArn) {
          throw new Error('CreateStateMachine returned no ARN');
        }
        const aliasArn = await pointAlias(out.stateMachineArn, out.stateMachineVersionArn, true);
        return { stateMachineArn: out.stateMachineArn, versionArn: out.stateMachineVersionArn, aliasArn };
      } catch (error) {
        if ((error as Error).name !== 'StateMachineAlreadyExists') throw error;
        const existing = await findByName(name);
        if (!existing) throw error;
        return update(existing, definition, description);
      }
    },
  };
}
