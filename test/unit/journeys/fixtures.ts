/** A journey with every node type, used by the compiler and runtime-contract tests. */
import { validateJourney } from '../../../shared/journeys/validate.js';
import { journeyDocument } from '../../support/journeys.js';

export const everyNodeDocument = journeyDocument('golden', 'Signed Up', {
  name: 'Every node type',
  start: 'hello',
  nodes: {
    hello: { type: 'email', template: 'welcome', next: 'notify' },
    notify: {
      type: 'webhook',
      url: 'https://hooks.example.com/x',
      timeout: 'PT5S',
      retries: 3,
      next: 'pause',
    },
    pause: { type: 'wait', for: 'PT2H', next: 'morning' },
    morning: { type: 'wait', until: { time: '09:00', timezone: 'Europe/Paris' }, next: 'bought' },
    bought: {
      type: 'waitFor',
      event: 'Order Completed',
      match: ['cartId'],
      timeout: 'P1D',
      // biome-ignore lint/suspicious/noThenProperty: `then` is a waitFor field of the journey format
      then: 'ab',
      else: 'vip',
    },
    vip: { type: 'branch', cases: [{ when: { traits: { plan: ['pro'] } }, next: 'tag' }], default: 'ab' },
    ab: {
      type: 'split',
      branches: [
        { weight: 30, next: 'tag', name: 'a' },
        { weight: 60, next: 'done', name: 'b' },
        { weight: 10, next: 'done', holdout: true, name: 'control' },
      ],
    },
    tag: { type: 'update', set: { vip: true }, increment: { visits: 1 }, next: 'done' },
    done: { type: 'exit' },
  },
});

export const everyNode = validateJourney(everyNodeDocument);
