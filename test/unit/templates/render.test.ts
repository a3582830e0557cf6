import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../shared/errors.js';
import { renderEmail, validateTemplate } from '../../../shared/templates/render.js';

const context = {
  profile: { profileId: 'p1', firstName: '<Ann & Co>' },
  event: { item: 'Boots', price: 20 },
  journey: { id: 'cart', version: 3 },
  unsubscribe_url: 'https://x.example/u?p=1&t=2',
};

function issuesOf(error: unknown) {
  assert.ok(error instanceof ValidationError);
  return error.issues;
}

describe('email template rendering', () => {
  it('renders subject, html and text with profile, event, journey and unsubscribe_url', async () => {
    const out = await renderEmail(
      {
        subject: '{{ profile.firstName }}: {{ event.item }} for {{ event.price }} EUR',
        html: '<p>{{ profile.firstName }}</p><a href="{{ unsubscribe_url }}">{{ journey.id }} v{{ journey.version }}</a>',
        text: '{{ profile.firstName }} {{ unsubscribe_url }}',
      },
      context,
    );
    assert.equal(out.subject, '<Ann & Co>: Boots for 20 EUR');
    assert.equal(
      out.html,
      '<p>&lt;Ann &amp; Co&gt;</p><a href="https://x.example/u?p=1&amp;t=2">cart v3</a>',
    );
    assert.equal(out.text, '<Ann & Co> https://x.example/u?p=1&t=2');
  });

  it('keeps the subject on one line', async () => {
    const out = await renderEmail({ subject: 'Hello\n  {{ event.item }}\n', text: 'x' }, context);
    assert.equal(out.subject, 'Hello Boots');
  });

  it('leaves out parts the template does not have', async () => {
    const out = await renderEmail({ subject: 'S', text: 'T' }, context);
    assert.deepEqual(out, { subject: 'S', text: 'T' });
  });

  it('refuses an unknown filter, naming the field, line and column', async () => {
    await assert.rejects(
      renderEmail({ subject: 'ok', html: '<p>\n{{ event.item | shout }}</p>' }, context),
      (error) => {
        assert.deepEqual(issuesOf(error), [
          { path: ['html'], message: 'undefined filter: shout (line 2, column 1)' },
        ]);
        return true;
      },
    );
  });

  it('never reads files: include and render are refused', async () => {
    await assert.rejects(renderEmail({ subject: 'x', text: "{% include 'secrets' %}" }, context), (error) => {
      assert.match(issuesOf(error)[0]!.message, /cannot include other templates or files/);
      return true;
    });
  });

  it('safe_url keeps http(s), mailto, tel and relative links and turns any other scheme into #', async () => {
    const hostile = [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'java\nscript:alert(1)',
      'data:text/html,x',
      'vbscript:x',
    ];
    for (const website of hostile) {
      const out = await renderEmail(
        {
          subject: 's',
          html: '<a href="{{ profile.website | safe_url }}">site</a>',
          text: '{{ profile.website | safe_url }}',
        },
        { ...context, profile: { profileId: 'p1', website } },
      );
      assert.equal(out.html, '<a href="#">site</a>', website);
      assert.equal(out.text, '#');
    }
    const kept = await renderEmail(
      { subject: 's', html: '<a href="{{ profile.website | safe_url }}">x</a>' },
      { ...context, profile: { profileId: 'p1', website: 'https://a.example/?q=1&r="2"' } },
    );
    assert.equal(kept.html, '<a href="https://a.example/?q=1&amp;r=&#34;2&#34;">x</a>');
  });

  it('the example templates pass user-supplied link targets through safe_url', async () => {
    const { readFile } = await import('node:fs/promises');
    const { parse } = await import('yaml');
    const template = parse(await readFile('statemachines/templates/webinar-reminder.template.yaml', 'utf8'));
    const out = await renderEmail(template, {
      ...context,
      event: { joinUrl: 'javascript:alert(document.cookie)' },
    });
    assert.match(out.html ?? '', /<a href="#">Join link<\/a>/);
  });

  it('does not expose inherited properties', async () => {
    const out = await renderEmail({ subject: '[{{ profile.constructor }}]', text: 'x' }, context);
    assert.equal(out.subject, '[]');
  });

  it('validateTemplate lists every problem with its field', () => {
    assert.throws(
      () => validateTemplate({ subject: '', html: '{% if x %}', text: '{{ a | nope }}' }),
      (error) => {
        assert.deepEqual(
          issuesOf(error).map((issue) => issue.path[0]),
          ['subject', 'html', 'text'],
        );
        return true;
      },
    );
    assert.throws(() => validateTemplate({ subject: 'x' }), /html or text/);
    assert.doesNotThrow(() =>
      validateTemplate({ subject: 'Hi {{ profile.firstName | default: "there" }}', text: 'x' }),
    );
  });
});
