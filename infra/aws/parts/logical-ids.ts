import { CfnElement, CfnResource, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * Gives every CloudFormation element under `part` the logical id it would have without `part` in its
 * path. The parts of `CairnJourneys` organise the construct tree; before they existed every resource
 * sat directly under `CairnJourneys`, and a changed logical id makes CloudFormation replace the
 * resource (a new table, user pool or bus: data lost or a name conflict). So parts never show in
 * logical ids; ids must be unique across the parts, which CDK checks at synth.
 */
export function keepLogicalIdsWithout(part: Construct): void {
  const stack = Stack.of(part);
  // The id is computed by the real stack (so its allocateLogicalId and renames apply) for a stand-in
  // element at the path without the part: the public way to ask "what would this id have been".
  const standIns = new Stack();
  for (const node of part.node.findAll()) {
    if (!CfnElement.isCfnElement(node) || Stack.of(node) !== stack) continue;
    const path = node.node.scopes.slice(node.node.scopes.indexOf(stack) + 1).filter((s) => s !== part);
    let scope: Construct = standIns;
    for (const [index, { node: step }] of path.entries()) {
      const existing = scope.node.tryFindChild(step.id) as Construct | undefined;
      scope =
        existing ??
        (index === path.length - 1
          ? new CfnResource(scope, step.id, { type: 'Cairn::StandIn' })
          : new Construct(scope, step.id));
    }
    node.overrideLogicalId(stack.getLogicalId(scope as CfnElement));
  }
}
