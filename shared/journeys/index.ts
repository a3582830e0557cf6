/** Journeys: definition (schema), validation, compilation to ASL, and the step contract. */
export * from './asl.js';
export * from './compile.js';
export * from './duration.js';
export * from './execution.js';
export { callsStep, graphIssues, isHeldOut, type PassedNode, walkWithoutSteps } from './graph.js';
export * from './nodes/branch.js';
export * from './nodes/email.js';
export * from './nodes/exit.js';
export * from './nodes/index.js';
export * from './nodes/split.js';
export type * from './nodes/types.js';
export * from './nodes/update.js';
export * from './nodes/wait.js';
export * from './nodes/waitFor.js';
export * from './nodes/webhook.js';
export * from './schema.js';
export * from './step.js';
export * from './validate.js';
