import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { journeyId, journeyTestKit } from './support.js';

/**
 * The example journeys in statemachines/, published under unique ids with their templates, driven
 * through their paths on the local stack. Event names get a suffix so tests sharing a stack never
 * trigger each other's journeys.
 */

type Doc = Record<string, unknown> & { nodes: Record<string, Record<string, unknown>> };

async function publishExample(name: string) {
  const kit = await journeyTestKit();
  const id = journeyId(name.slice(0, 12));
  const doc = parse(readFileSync(`statemachines/${name}.journey.yaml`, 'utf8')) as Doc;
  const ev = (event: string) => `${event} ${id}`;
  const rename = (condition: { event: string } | undefined) =>
    condition && { ...condition, event: ev(condition.event) };
  doc.id = id;
  doc.trigger = rename(doc.trigger as { event: string });
  if (doc.goal) doc.goal = rename(doc.goal as { event: string });
  if (Array.isArray(doc.exitOn)) doc.exitOn = (doc.exitOn as { event: string }[]).map(rename);
  for (const node of Object.values(doc.nodes)) {
    if (node.type === 'waitFor') node.event = ev(String(node.event));
    if (node.type === 'email') {
      const template = String(node.template);
      const body = parse(readFileSync(`statemachines/templates/${template}.template.yaml`, 'utf8'));
      const templateId = `${id}-${template}`;
      node.template = templateId;
      await kit.template(templateId, body);
    }
  }
  await kit.publish(doc);
  return { kit, id, ev };
}

describe('example journeys on the local stack', () => {
  it('abandoned cart: the order of that cart within the hour converts; without it, reminder and a coupon for pro', async () => {
    const { kit, id, ev } = await publishExample('cart-recovery');
    const buyer = `buyer-${id}`;
    const pro = `pro-${id}`;
    await kit.identify(buyer, { email: `${buyer}@example.com` });
    await kit.identify(pro, { email: `${pro}@example.com`, plan: 'pro', firstName: 'Pat' });
    await kit.track(buyer, ev('Product Added'), { cartId: 'c1', price: 20, name: 'Boots' });
    await kit.track(pro, ev('Product Added'), { cartId: 'c2', price: 30, name: 'Hat' });
    await kit.track(pro, ev('Product Added'), { cartId: 'c3', price: 0, name: 'Free sample' });
    await kit.advance('PT2H1M');
    await kit.track(buyer, ev('Order Completed'), { cartId: 'c1' });
    await kit.advance('PT1H1M');
    const outbox = await kit.outbox(id);
    assert.equal(outbox.filter((m) => m.to.startsWith('buyer')).length, 0);
    const proMail = outbox.filter((m) => m.to.startsWith('pro')).map((m) => m.nodeId);
    assert.deepEqual(proMail.sort(), ['coupon', 'reminder']);
    assert.match(outbox.find((m) => m.nodeId === 'reminder')!.subject, /Hat/);
    const stats = await kit.stats(id);
    assert.equal(stats.started, 2, 'the free sample does not match the trigger');
    assert.equal(stats.goal.conversions, 1);
    assert.equal(stats.nodes.bought.timedOut, 1);
    assert.equal(stats.nodes['wait-2h'].completed, 2);
    assert.equal(stats.nodes.vip.branches['case 0: coupon'], 1);
  });

  it('welcome series: welcome now, two days later tips for activated users and a nudge for the others', async () => {
    const { kit, id, ev } = await publishExample('welcome');
    const active = `active-${id}`;
    const idle = `idle-${id}`;
    await kit.identify(active, { email: `${active}@example.com`, firstName: 'Ada' });
    await kit.identify(idle, { email: `${idle}@example.com` });
    await kit.track(active, ev('Signed Up'));
    await kit.track(idle, ev('Signed Up'));
    assert.equal((await kit.outbox(id)).length, 2);
    await kit.identify(active, { projectCount: 2 });
    await kit.advance('P2DT1M');
    const outbox = await kit.outbox(id);
    assert.equal(
      outbox.find((m) => m.to.startsWith('active') && m.nodeId !== 'welcome-email')?.nodeId,
      'tips',
    );
    assert.equal(
      outbox.find((m) => m.to.startsWith('idle') && m.nodeId !== 'welcome-email')?.nodeId,
      'nudge',
    );
    const profile = await kit.api.get(`/profiles/${await kit.profileId(active)}`);
    assert.equal(profile.body.traits.welcomeSeries, 'completed');
    assert.equal((await kit.stats(id)).finished, 2);
  });

  it('webinar: confirmation, reminder at 09:00 local the day before, thanks or recording', async () => {
    const { kit, id, ev } = await publishExample('webinar');
    const now = await kit.clockNow();
    const startsAt = new Date(now + 3 * 86_400_000).toISOString();
    const attendee = `att-${id}`;
    const absent = `abs-${id}`;
    await kit.identify(attendee, { email: `${attendee}@example.com`, timezone: 'Asia/Tokyo' });
    await kit.identify(absent, { email: `${absent}@example.com`, timezone: 'America/Los_Angeles' });
    for (const user of [attendee, absent]) {
      await kit.track(user, ev('Webinar Registered'), { webinarId: 'w1', startsAt, title: 'Launch' });
    }
    assert.deepEqual(
      (await kit.outbox(id)).map((m) => m.nodeId),
      ['confirmation', 'confirmation'],
    );
    await kit.advance('P3D');
    const reminders = (await kit.outbox(id)).filter((m) => m.nodeId === 'reminder');
    assert.equal(reminders.length, 2);
    const tokyo = reminders.find((m) => m.to.startsWith('att'))!;
    const hour = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Tokyo',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    assert.equal(hour.format(new Date(tokyo.sentAt)), '09');
    await kit.track(attendee, ev('Webinar Attended'), { webinarId: 'w1' });
    await kit.advance('P2DT1M');
    const last = (await kit.outbox(id)).filter((m) => m.nodeId === 'thanks' || m.nodeId === 'recording');
    assert.equal(last.find((m) => m.to.startsWith('att'))?.nodeId, 'thanks');
    assert.equal(last.find((m) => m.to.startsWith('abs'))?.nodeId, 'recording');
  });
});
