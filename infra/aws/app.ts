/**
 * The Cairn CDK app: `npx cdk synth` / `npx cdk deploy`. Settings come from context (`-c key=value` or
 * cdk.json): `cairn:emailFrom`, `cairn:emailIdentity`, `cairn:busName`, `cairn:encryption`,
 * `cairn:writeKeySha256` (comma-separated), `cairn:removalPolicy` (retain | destroy),
 * `cairn:machineDomainPrefix` (OAuth client credentials for services), `cairn:stackName`.
 * cdk-nag's AWS Solutions rules run on every synth; an unsuppressed error fails it.
 */
import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CairnStack } from './cairn-stack.js';

const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(`cairn:${key}`) ?? undefined;

new CairnStack(app, context('stackName') ?? 'Cairn', {
  description: 'Cairn: customer journey orchestration (events, profiles, journeys on Step Functions)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  cairn: {
    emailFrom: context('emailFrom') ?? 'Cairn <no-reply@example.com>',
    emailIdentity: context('emailIdentity'),
    busName: context('busName'),
    encryption: context('encryption') === 'customer-managed' ? 'customer-managed' : 'aws-managed',
    writeKeySha256: context('writeKeySha256')?.split(',').filter(Boolean),
    removalPolicy: context('removalPolicy') === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    machineAccess: context('machineDomainPrefix')
      ? { domainPrefix: context('machineDomainPrefix')! }
      : undefined,
  },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
