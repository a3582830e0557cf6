import middy from '@middy/core';
import { JourneyCatalog } from '../../shared/catalog/catalog.js';
import {
  type CustomResourceEvent,
  journeyResource,
  sendCustomResourceResponse,
} from '../../shared/catalog/deployed.js';
import { DynamoCatalogStore } from '../../shared/catalog/dynamodb.js';
import { journeyLanguage } from '../../shared/catalog/language.js';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';
import { createDocumentClient } from '../../shared/store/dynamodb.js';
import { journeysTable, tableName } from '../../shared/store/tables.js';
import { lambdaLog } from '../middleware/index.js';

/**
 * Provider of `Custom::CairnJourney` (one per journey `cdk deploy` creates): records the deployed
 * state machine version in the catalog so the journey is live without publishing it through the API.
 * It only writes the Journeys table; it never deploys anything (CloudFormation did).
 */
const log = createLogger({ component: 'deploy' });
let catalog: JourneyCatalog | undefined;

export const handler = middy<CustomResourceEvent, void>()
  .use(
    lambdaLog<CustomResourceEvent, void>({
      log,
      correlationId: (event) => event.RequestId,
      describe: (event) => ({ requestType: event.RequestType, resource: event.LogicalResourceId }),
    }),
  )
  .handler(async (event) => {
    catalog ??= new JourneyCatalog({
      store: new DynamoCatalogStore(createDocumentClient(), tableName(journeysTable)),
      deployer: { deploy: () => Promise.reject(new Error('CloudFormation deploys these state machines')) },
      language: journeyLanguage,
      clock: systemClock,
      stepFunctionArn: '',
      log,
    });
    await sendCustomResourceResponse(event.ResponseURL, await journeyResource(event, catalog, log));
  });
