import {
  answerCustomResource,
  type CustomResourceEvent,
  type CustomResourceResponse,
} from '../catalog/deployed.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import { deleteSegment, putSegment, type SegmentServiceDeps, validateSegment } from './service.js';

/**
 * `Custom::CairnSegment` (one per `statemachines/segments/<id>.segment.yaml` CDK deploys, see
 * infra/aws/parts/state-machines.ts): Create/Update define the segment as `PUT /segments/{id}` does
 * (validated, then built from existing profiles), Delete deletes it. CloudFormation orders them: a
 * segment after the segments it reads, journeys after every segment.
 */
export interface SegmentResourceProperties {
  SegmentId: string;
  /** `<id>.segment.yaml` as JSON text. */
  Definition: string;
}

export type SegmentResourceEvent = Omit<CustomResourceEvent, 'ResourceProperties'> & {
  ResourceProperties: SegmentResourceProperties & { ServiceToken?: string };
};

export const segmentResourceType = 'Custom::CairnSegment';

/** Runs one segment resource request; never throws (failures become FAILED with the reason). */
export async function segmentResource(
  event: SegmentResourceEvent,
  deps: SegmentServiceDeps,
  log?: Logger,
): Promise<CustomResourceResponse> {
  const id = event.ResourceProperties.SegmentId;
  return answerCustomResource(
    event,
    {
      label: `segment ${id}`,
      physicalId: `cairn-segment:${id}`,
      async apply() {
        const input = JSON.parse(event.ResourceProperties.Definition) as unknown;
        const current = await deps.store.getSegment(id);
        // The same definition again (a retried deploy): nothing to rebuild.
        if (current) {
          const others = (await deps.store.listSegments()).map((r) => r.definition);
          const definition = validateSegment(input, id, others);
          if (JSON.stringify(definition) === JSON.stringify(current.definition))
            return { Status: current.status, Revision: String(current.revision) };
        }
        const saved = await putSegment(deps, id, input);
        return { Status: saved.status, Revision: String(saved.revision) };
      },
      async remove() {
        try {
          await deleteSegment(deps, id);
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
        }
      },
    },
    log,
  );
}
