import middy from '@middy/core';
import {
  type CustomResourceEvent,
  DeployedJourneys,
  journeyResource,
  sendCustomResourceResponse,
} from '../../shared/catalog/deployed.js';
import { DynamoCatalogStore } from '../../shared/catalog/dynamodb.js';
import { journeyLanguage } from '../../shared/catalog/language.js';
import { systemClock } from '../../shared/clock.js';
import {
  type MessagingPolicyResourceEvent,
  messagingPolicyResource,
  messagingPolicyResourceType,
} from '../../shared/messaging/deployed.js';
import { DynamoMessagingStore } from '../../shared/messaging/dynamodb.js';
import {
  type SegmentResourceEvent,
  segmentResource,
  segmentResourceType,
} from '../../shared/segments/deployed.js';
import { definedSegmentIds } from '../../shared/segments/service.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, profilesTable, tableName } from '../../shared/store/tables.js';
import { edgeLogger } from '../config.js';
import { lambdaLog } from '../middleware/index.js';
import { createSegments, type SegmentsWiring } from '../segments/deps.js';

/**
 * Provider of `Custom::CairnJourney` (one per journey `cdk deploy` creates): records the deployed
 * state machine version in the catalog so the journey is live without publishing it through the API;
 * it never deploys anything (CloudFormation did). And of `Custom::CairnSegment` (one per
 * `statemachines/segments/<id>.segment.yaml`): defines the segment, whose backfill pages go on the bus.
 * And of `Custom::CairnMessagingPolicy` (the construct's `messagingPolicy`): stores the policy.
 */
const log = edgeLogger({ component: 'deploy' });
let deployed: DeployedJourneys | undefined;
let segments: SegmentsWiring | undefined;
const client = createDocumentClient();

type DeployEvent = CustomResourceEvent | SegmentResourceEvent | MessagingPolicyResourceEvent;

export const handler = middy<DeployEvent, void>()
  .use(
    lambdaLog<DeployEvent, void>({
      log,
      correlationId: (event) => event.RequestId,
      describe: (event) => ({ requestType: event.RequestType, resource: event.LogicalResourceId }),
    }),
  )
  .handler(async (event) => {
    if (event.ResourceType === messagingPolicyResourceType) {
      const store = new DynamoMessagingStore({
        client,
        journeysTable: tableName(journeysTable, process.env),
        profilesTable: tableName(profilesTable, process.env),
      });
      const response = await messagingPolicyResource(
        event as MessagingPolicyResourceEvent,
        store,
        () => systemClock.now(),
        log,
      );
      await sendCustomResourceResponse(event.ResponseURL, response);
      return;
    }
    segments ??= createSegments({ client, clock: systemClock, log });
    if (event.ResourceType === segmentResourceType) {
      const response = await segmentResource(event as SegmentResourceEvent, segments.service, log);
      await sendCustomResourceResponse(event.ResponseURL, response);
      return;
    }
    const store = segments.store;
    deployed ??= new DeployedJourneys({
      store: new DynamoCatalogStore(client, tableName(journeysTable, process.env)),
      language: journeyLanguage,
      clock: systemClock,
      log,
      segmentIds: () => definedSegmentIds(store),
    });
    const response = await journeyResource(event as CustomResourceEvent, deployed, log);
    await sendCustomResourceResponse(event.ResponseURL, response);
  });
