import '../../../infra/local/stepfunctions/polyfill.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StateMachine } from 'aws-local-stepfunctions';
import { compileJourney } from '../../../shared/journeys/compile.js';
import { isHeldOut, walkWithoutSteps } from '../../../shared/journeys/graph.js';
import { type SplitNode, splitBranchIndex, splitHash } from '../../../shared/journeys/nodes/split.js';
import { validateJourney } from '../../../shared/journeys/validate.js';
import { journeyDocument } from '../../support/journeys.js';

const journey = validateJourney(
  journeyDocument('ab-test', 'Signed Up', {
    start: 'ab',
    nodes: {
      ab: {
        type: 'split',
        branches: [
          { weight: 50, next: 'a', name: 'A' },
          { weight: 30, next: 'b', name: 'B' },
          { weight: 20, next: 'control', holdout: true },
        ],
      },
      a: { type: 'exit' },
      b: { type: 'exit' },
      control: { type: 'exit' },
    },
  }),
);
const split = journey.nodes.ab as SplitNode;

describe('split', () => {
  it('puts 10,000 profiles in the branches within ±2% of the weights', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 10_000; i++) {
      counts[splitBranchIndex(split, splitHash(`profile-${i}`, journey.id, 'ab'))]! += 1;
    }
    const shares = counts.map((count) => (count / 10_000) * 100);
    split.branches.forEach((branch, index) => {
      assert.ok(
        Math.abs(shares[index]! - branch.weight) <= 2,
        `branch ${index}: ${shares[index]}% for weight ${branch.weight}`,
      );
    });
  });

  it('is stable: the same profile always gets the same branch, and another split node hashes independently', () => {
    const first = Array.from({ length: 1000 }, (_, i) =>
      splitBranchIndex(split, splitHash(`p${i}`, 'ab-test', 'ab')),
    );
    const again = Array.from({ length: 1000 }, (_, i) =>
      splitBranchIndex(split, splitHash(`p${i}`, 'ab-test', 'ab')),
    );
    assert.deepEqual(again, first);
    const other = Array.from({ length: 1000 }, (_, i) =>
      splitBranchIndex(split, splitHash(`p${i}`, 'ab-test', 'ab2')),
    );
    assert.notDeepEqual(other, first);
  });

  it('the compiled Pass + Choice (States.Hash) picks the same branch as splitBranchIndex', async () => {
    const asl = compileJourney(journey);
    // Only the split's own states; exits become Pass states (an object Result: the interpreter drops a bare 0).
    const definition = {
      StartAt: 'ab',
      States: {
        ab: asl.States.ab,
        'ab.choice': asl.States['ab.choice'],
        a: { Type: 'Pass', Result: { index: 0 }, ResultPath: '$.branch', End: true },
        b: { Type: 'Pass', Result: { index: 1 }, ResultPath: '$.branch', End: true },
        control: { Type: 'Pass', Result: { index: 2 }, ResultPath: '$.branch', End: true },
      },
    };
    const machine = new StateMachine(definition as never);
    for (let i = 0; i < 300; i++) {
      const profileId = `profile-${i}`;
      const output = (await machine.run({ profileId, journeyId: 'ab-test', version: 1 }).result) as {
        branch: { index: number };
        splits: Record<string, { hash: string }>;
      };
      const hash = splitHash(profileId, 'ab-test', 'ab');
      assert.equal(output.splits.ab?.hash, hash, 'States.Hash equals the runtime hash');
      assert.equal(output.branch.index, splitBranchIndex(split, hash), profileId);
      assert.equal(isHeldOut(journey, output), output.branch.index === 2);
    }
  });

  it('a branch with weight 0 is never taken', () => {
    const node: SplitNode = {
      type: 'split',
      branches: [
        { weight: 0, next: 'x' },
        { weight: 100, next: 'y' },
      ],
    };
    for (let i = 0; i < 200; i++) assert.equal(splitBranchIndex(node, splitHash(`p${i}`, 'j', 's')), 1);
  });

  it('walkWithoutSteps follows the split to the branch this profile takes', () => {
    const profileId = 'profile-7';
    const branchIndex = splitBranchIndex(split, splitHash(profileId, 'ab-test', 'ab'));
    assert.deepEqual(walkWithoutSteps(journey, 'ab', profileId), {
      passed: [{ nodeId: 'ab', type: 'split', branchIndex }],
      reaches: split.branches[branchIndex]!.next,
    });
  });
});
