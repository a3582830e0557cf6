import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scoreCondition, scoreHolds, stageHolds } from '../../../shared/derived/index.js';
import { type BranchNode, runBranch } from '../../../shared/journeys/nodes/branch.js';
import type { StepContext } from '../../../shared/journeys/nodes/types.js';
import { journeyIssues } from '../../../shared/journeys/validate.js';

const profile = {
  profileId: 'p1',
  traits: { plan: 'free' },
  computed: { totalSpend: 250, favouriteCategory: 'shoes' },
  stage: 'dormant',
  scores: { lead: { fit: 30, engagement: 12, total: 42 }, churnRisk: 0.82 },
};

function step(node: BranchNode, p: StepContext<BranchNode>['profile'] = profile): StepContext<BranchNode> {
  return {
    journeyId: 'j',
    version: 1,
    nodeId: 'n',
    node,
    executionName: 'e',
    state: { profileId: p.profileId, entry: { event: 'x', properties: {} } } as never,
    profile: p,
    now: 0,
    heldOut: false,
  };
}

describe('derived conditions in branch.when', () => {
  it('routes on stage, lead-score axes, churn risk and computed traits', async () => {
    const node: BranchNode = {
      type: 'branch',
      cases: [
        { when: { stage: ['active', 'new'] }, next: 'a' },
        { when: { score: { lead: { engagement: { '>=': 20 } } } }, next: 'b' },
        {
          when: { score: { churnRisk: { '>=': 0.7 } }, computed: { totalSpend: [{ numeric: ['>', 100] }] } },
          next: 'c',
        },
      ],
      default: 'done',
    };
    assert.deepEqual(await runBranch(step(node), {}), { outcome: 'matched', next: 'c', caseIndex: 2 });
    const calm = { ...profile, scores: { lead: { fit: 0, engagement: 25, total: 25 }, churnRisk: 0.1 } };
    assert.equal((await runBranch(step(node, calm), {})).next, 'b');
    assert.equal((await runBranch(step(node, { profileId: 'p2', traits: {} }), {})).next, 'done');
  });

  it('a score the profile does not have never matches; a stage must be listed', () => {
    assert.equal(scoreHolds({ other: { fit: { '>=': 0 } } }, profile.scores), false);
    assert.equal(scoreHolds({ churnRisk: { '<': 0.5 } }, { churnRisk: null }), false);
    assert.equal(stageHolds(['active'], undefined), false);
  });

  it('validates score conditions with paths', () => {
    const bad = scoreCondition.safeParse({ churnRisk: { fit: { '>=': 1 } }, lead: { '>=': 3 } });
    assert.equal(bad.success, false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    assert.deepEqual(paths.sort(), ['churnRisk', 'lead']);
    const journey = {
      id: 'j',
      trigger: { event: 'X' },
      start: 'b',
      nodes: {
        b: {
          type: 'branch',
          cases: [{ when: { stage: [], score: { lead: {} } }, next: 'done' }],
          default: 'done',
        },
        done: { type: 'exit' },
      },
    };
    const issues = journeyIssues(journey).map((i) => i.path.join('.'));
    assert.ok(issues.includes('nodes.b.cases.0.when.stage'), issues.join(' | '));
  });
});
