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
  type SegmentResourceEvent,
  segmentResource,
  segmentResourceType,
} from '../../shared/segments/deployed.js';
import { definedSegmentIds } from '../../shared/segments/service.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../shared/store/tables.js';
import { edgeLogger } from '../config.js';
import { lambdaLog } from '../middleware/index.js';
import { createSegments, type SegmentsWiring } from '../segments/deps.js';

/**
 * Provider of `Custom::CairnJourney` (one per journey `cdk deploy` creates): records the deployed
 * state machine version in the catalog so the journey is live without publishing it through the API;
 * it never deploys anything (CloudFormation did). And of `Custom::CairnSegment` (one per
 * `statemachines/segments/<id>.segment.yaml`): defines the segment, whose backfill pages go on the bus.
 */
const log = edgeLogger({ component: 'deploy' });
let deployed: DeployedJourneys | undefined;
let segments: SegmentsWiring | undefined;
const client = createDocumentClient();

export const handler = middy<CustomResourceEvent | SegmentResourceEvent, void>()
  .use(
    lambdaLog<CustomResourceEvent | SegmentResourceEvent, void>({
      log,
      correlationId: (event) => event.RequestId,
      describe: (event) => ({ requestType: event.RequestType, resource: event.LogicalResourceId }),
    }),
  )
  .handler(async (event) => {
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
