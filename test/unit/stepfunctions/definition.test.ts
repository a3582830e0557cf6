import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compileDefinition,
  parseDefinition,
  taskKind,
  waitResource,
} from '../../../infra/local/stepfunctions/definition.js';

const fn = 'arn:aws:lambda:us-east-1:000000000000:function:cairn-step';

describe('definition compiler for the interpreter', () => {
  test('a Wait becomes a service task carrying its input and duration, keeping its paths and transition', () => {
    const compiled = compileDefinition({
      StartAt: 'w',
      States: {
        w: { Type: 'Wait', SecondsPath: '$.delay', InputPath: '$.x', OutputPath: '$.y', Next: 'd' },
        d: { Type: 'Succeed' },
      },
    });
    assert.deepEqual(compiled.definition.States.w, {
      Type: 'Task',
      Resource: waitResource,
      Parameters: { 'input.$': '$', 'seconds.$': '$.delay' },
      InputPath: '$.x',
      OutputPath: '$.y',
      Next: 'd',
    });
    assert.equal(compiled.types.get('w'), 'Wait');
    assert.equal(compiled.tasks.get('w')?.kind, 'wait');
  });

  test('waitForTaskToken timeouts move out of the definition; *Path variants are evaluated through Parameters', () => {
    const compiled = compileDefinition({
      StartAt: 't',
      TimeoutSeconds: 100,
      States: {
        t: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: { FunctionName: fn, Payload: { 'token.$': '$$.Task.Token' } },
          TimeoutSecondsPath: '$.timeout',
          End: true,
        },
      },
    });
    const task = compiled.definition.States.t as unknown as Record<string, unknown>;
    assert.equal(task.TimeoutSecondsPath, undefined);
    assert.deepEqual(task.Parameters, {
      payload: { FunctionName: fn, Payload: { 'token.$': '$$.Task.Token' } },
      'timeout.$': '$.timeout',
    });
    assert.equal(compiled.tasks.get('t')?.wrapped, true);
    assert.equal(compiled.timeoutSeconds, 100);
    assert.equal(compiled.definition.TimeoutSeconds, undefined);
  });

  test('context paths the interpreter would overwrite on a resumed run are redirected; $$.State.Name is inlined', () => {
    const compiled = compileDefinition({
      StartAt: 'p',
      States: {
        p: {
          Type: 'Pass',
          Parameters: {
            'trigger.$': '$$.Execution.Input.event',
            'at.$': '$$.Execution.StartTime',
            'node.$': '$$.State.Name',
          },
          End: true,
        },
      },
    });
    assert.deepEqual((compiled.definition.States.p as unknown as { Parameters: unknown }).Parameters, {
      'trigger.$': '$$.Execution.CairnInput.event',
      'at.$': '$$.Execution.CairnStartTime',
      node: 'p',
    });
  });

  test('resources: Lambda ARNs, lambda:invoke, .waitForTaskToken, and anything else unsupported', () => {
    assert.equal(taskKind(fn), 'lambda');
    assert.equal(taskKind('arn:aws:states:::lambda:invoke'), 'invoke');
    assert.equal(taskKind('arn:aws:states:::lambda:invoke.waitForTaskToken'), 'token');
    assert.equal(taskKind('arn:aws:states:::sqs:sendMessage'), 'unsupported');
  });

  test('parseDefinition rejects what AWS rejects, as InvalidDefinition', () => {
    assert.throws(() => parseDefinition('{'), { name: 'InvalidDefinition' });
    assert.throws(() => parseDefinition('{"StartAt":"a","States":{"a":{"Type":"Pass","Next":"b"}}}'), {
      name: 'InvalidDefinition',
    });
    assert.throws(
      () => parseDefinition(JSON.stringify({ QueryLanguage: 'JSONata', StartAt: 'a', States: {} })),
      /JSONPath only/,
    );
    assert.ok(parseDefinition('{"StartAt":"a","States":{"a":{"Type":"Pass","End":true}}}'));
  });
});
