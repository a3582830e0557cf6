export { DynamoSegmentStore } from './dynamodb.js';
export { MemorySegmentMembership } from './memory.js';
export type { MembersPage, SegmentMember, SegmentMembership, SegmentState, SegmentStatus } from './port.js';
export { type Condition, type Segment, segmentJsonSchema, segmentSchema } from './schema.js';
export type { MembershipState, SegmentRecord, SegmentStore } from './store.js';
