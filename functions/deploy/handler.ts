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
import { definedSegmentIds } from '../../shared/segments/service.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../shared/store/tables.js';
import { edgeLogger } from '../config.js';
import { lambdaLog } from '../middleware/index.js';
import { createSegments } from '../segments/deps.js';

/**
 * Provider of `Custom::CairnJourney` (one per journey `cdk deploy` creates): records the deployed
 * state machine version in the catalog so the journey is live without publishing it through the API.
 * It only writes the Journeys table; it never deploys anything (CloudFormation did).
 */
const log = edgeLogger({ component: 'deploy' });
let deployed: DeployedJourneys | undefined;
const client = createDocumentClient();

export const handler = middy<CustomResourceEvent, void>()
  .use(
    lambdaLog<CustomResourceEvent, void>({
      log,
      correlationId: (event) => event.RequestId,
      describe: (event) => ({ requestType: event.RequestType, resource: event.LogicalResourceId }),
    }),
  )
  .handler(async (event) => {
    deployed ??= new DeployedJourneys({
      store: new DynamoCatalogStore(client, tableName(journeysTable, process.env)),
      language: journeyLanguage,
      clock: systemClock,
      log,
      segmentIds: () => definedSegmentIds(createSegments({ client, log }).store),
    });
    await sendCustomResourceResponse(event.ResponseURL, await journeyResource(event, deployed, log));
  });
