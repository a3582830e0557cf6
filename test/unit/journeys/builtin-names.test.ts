import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { traitDefinitionSchema } from '../../../shared/derived/index.js';
import { addEvent, traitValue } from '../../../shared/derived/traits.js';
import { propertyAt } from '../../../shared/journeys/fields.js';

describe('maps keyed by user data are safe for built-in property names', () => {
  test('a property path reads own properties only', () => {
    assert.equal(propertyAt({}, 'constructor'), undefined);
    assert.equal(propertyAt({ cart: {} }, 'cart.toString'), undefined);
    assert.equal(propertyAt(JSON.parse('{"constructor":"c"}'), 'constructor'), 'c');
  });

  test('a most-frequent computed trait counts the values constructor, __proto__ and toString', () => {
    const trait = traitDefinitionSchema.parse({
      id: 'favourite',
      event: 'Viewed',
      aggregate: 'mostFrequent',
      property: 'properties.category',
    });
    let state: ReturnType<typeof addEvent>;
    const now = Date.parse('2026-05-01T00:00:00Z');
    for (const category of ['constructor', '__proto__', 'constructor', 'toString']) {
      state = addEvent(trait, state, { properties: { category } }, now, now);
    }
    assert.equal(JSON.stringify(state), '{"c":{"constructor":2,"__proto__":1,"toString":1}}');
    assert.equal(traitValue(trait, state, now), 'constructor');
  });
});
