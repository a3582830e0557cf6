import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionService } from './types.js';

/** Step Functions as the runtime's ExecutionService (locally: the edge's AWSStepFunctions endpoint). */
export function sfnExecutionService(client: SFNClient): ExecutionService {
  const executionArn = (stateMachineArn: string, name: string) => {
    // arn:aws:states:<region>:<account>:stateMachine:<name>[:<version|alias>] → ...:execution:<sm>:<name>
    const parts = stateMachineArn.split(':');
    const machine = parts[6] ?? '';
    return [...parts.slice(0, 5), 'execution', machine, name].join(':');
  };
  return {
    executionArn,
    async start({ stateMachineArn, name, input }) {
      try {
        const out = await client.send(
          new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
        );
        return { executionArn: out.executionArn ?? executionArn(stateMachineArn, name), started: true };
      } catch (error) {
        // Same name = the same entry delivered twice: the execution exists, which is success.
        if ((error as { name?: string }).name === 'ExecutionAlreadyExists') {
          return { executionArn: executionArn(stateMachineArn, name), started: false };
        }
        throw error;
      }
    },
    async isRunning(arn) {
      try {
        const out = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
        return out.status === 'RUNNING' || out.status === 'PENDING_REDRIVE';
      } catch (error) {
        if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return false;
        throw error;
      }
    },
    async sendTaskSuccess(token, output) {
      try {
        await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
        return true;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'TaskTimedOut' || name === 'InvalidToken' || name === 'TaskDoesNotExist') return false;
        throw error;
      }
    },
    async trail(arn) {
      const out = await client.send(
        new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 100 }),
      );
      const states: string[] = [];
      for (const event of out.events ?? []) {
        const name = event.stateEnteredEventDetails?.name;
        if (!name) continue;
        if (event.type === 'TaskStateEntered') return { lastStep: name, states: states.reverse() };
        states.push(name);
      }
      // No step within the page: the start, if the page reached it.
      return out.nextToken ? undefined : { states: states.reverse() };
    },
    async stop(arn, cause) {
      try {
        await client.send(new StopExecutionCommand({ executionArn: arn, cause, error: 'Cairn.Stopped' }));
        return true;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'ExecutionDoesNotExist' || name === 'ExecutionNotRunning') return false;
        throw error;
      }
    },
  };
}
