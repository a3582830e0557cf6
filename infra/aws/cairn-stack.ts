import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { CairnJourneys, type CairnJourneysProps } from './cairn-journeys.js';
import { suppressAcceptedFindings } from './nag-suppressions.js';

export interface CairnStackProps extends StackProps {
  readonly cairn: CairnJourneysProps;
}

/** The deployable Cairn: one `CairnJourneys`, its outputs, and the cdk-nag findings accepted for it (with reasons). */
export class CairnStack extends Stack {
  readonly cairn: CairnJourneys;

  constructor(scope: Construct, id: string, props: CairnStackProps) {
    super(scope, id, props);
    this.cairn = new CairnJourneys(this, 'Cairn', props.cairn);
    suppressAcceptedFindings(this.cairn);

    new CfnOutput(this, 'ApiUrl', {
      value: this.cairn.apiUrl,
      description: 'HTTP API: marketer routes and /v1/*',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `${this.cairn.apiUrl}app/`,
      description: 'The marketer dashboard (sign in with a user an admin created in the user pool)',
    });
    new CfnOutput(this, 'BusName', { value: this.cairn.bus.eventBusName, description: 'PutEvents here' });
    new CfnOutput(this, 'UserPoolId', { value: this.cairn.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.cairn.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'ConfigurationSet', { value: this.cairn.configurationSet.configurationSetName });
    new CfnOutput(this, 'IngestDeadLetterQueueUrl', {
      value: this.cairn.buffers.ingest.deadLetterQueue.queueUrl,
    });
    new CfnOutput(this, 'ProfilesTableName', { value: this.cairn.tables.Profiles.tableName });
    new CfnOutput(this, 'JourneysTableName', { value: this.cairn.tables.Journeys.tableName });
    new CfnOutput(this, 'IngestLogGroupName', { value: this.cairn.functions.ingest.logGroup.logGroupName });
    new CfnOutput(this, 'DashboardName', { value: this.cairn.dashboard.dashboardName });
    if (this.cairn.machineClient && this.cairn.userPoolDomain) {
      new CfnOutput(this, 'MachineClientId', { value: this.cairn.machineClient.userPoolClientId });
      new CfnOutput(this, 'TokenUrl', { value: `${this.cairn.userPoolDomain.baseUrl()}/oauth2/token` });
    }
  }
}
