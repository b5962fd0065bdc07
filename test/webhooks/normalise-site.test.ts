import { describe, expect, it } from 'vitest';
import { normaliseSite } from '../../platforms/site/webhooks/normalise.js';

const RECEIVED = new Date('2026-11-28T12:00:00.000Z');
const HEADERS = { 'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', 'content-type': 'application/json' };
const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const FORM = {
  type: 'form.submitted',
  timestamp: '2026-11-28T06:59:40-05:00',
  data: {
    formId: 'contact-us',
    pageUrl:
      'https://www.demo-outdoor.example/contact?utm_source=facebook&utm_medium=paid_social&utm_campaign=spring-trail',
    fields: [
      { name: 'Email', value: 'Rosa.Costa.7@Example.org' },
      { name: 'firstname', value: 'Rosa' },
      { name: 'interests', value: 'running' },
      { name: 'interests', value: 'camping' },
      { name: 'message', value: 'Do you ship to Canada?' },
    ],
  },
};

describe('site normaliser (Standard Webhooks)', () => {
  it('should turn form.submitted into FORM_SUBMITTED: fields in personal, the email field as customer', () => {
    expect(normaliseSite(body(FORM), HEADERS, RECEIVED)).toEqual({
      ok: true,
      events: [
        {
          dedupeKey: 'site:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
          type: 'FORM_SUBMITTED',
          source: 'site',
          occurredAt: '2026-11-28T11:59:40.000Z',
          receivedAt: RECEIVED.toISOString(),
          customer: { email: 'rosa.costa.7@example.org' },
          properties: {
            formId: 'contact-us',
            pageUrl: FORM.data.pageUrl,
            utm: {
              source: 'facebook',
              medium: 'paid_social',
              campaign: 'spring-trail',
              content: null,
              term: null,
            },
          },
          personal: {
            Email: 'Rosa.Costa.7@Example.org',
            firstname: 'Rosa',
            interests: 'running, camping',
            message: 'Do you ship to Canada?',
          },
        },
      ],
    });
  });

  it("should prefer the site's own attribution to the page URL's UTM", () => {
    const attributed = {
      ...FORM,
      data: { ...FORM.data, utm: { source: 'newsletter', campaign: 'autumn-drop' } },
    };
    const result = normaliseSite(body(attributed), HEADERS, RECEIVED);
    expect(result.ok && result.events[0]?.properties['utm']).toEqual({
      source: 'newsletter',
      medium: null,
      campaign: 'autumn-drop',
      content: null,
      term: null,
    });
  });

  it('should keep a form whose email field is not an address, naming no customer', () => {
    const typo = { ...FORM, data: { ...FORM.data, fields: [{ name: 'email', value: 'rosa at example' }] } };
    const result = normaliseSite(body(typo), HEADERS, RECEIVED);
    expect(result.ok && result.events[0]).toMatchObject({
      customer: null,
      personal: { email: 'rosa at example' },
    });
  });

  it('should turn page.viewed into PAGE_VIEWED, with the visitor when known', () => {
    const view = {
      type: 'page.viewed',
      timestamp: '2026-11-28T11:58:00Z',
      data: {
        url: 'https://www.demo-outdoor.example/products/rain-shell?utm_source=google&utm_medium=organic',
        referrer: 'https://www.google.com/',
        title: 'rain shell | Demo Outdoor Co',
        email: 'Wen.Ito.12@example.net',
      },
    };
    expect(normaliseSite(body(view), HEADERS, RECEIVED)).toEqual({
      ok: true,
      events: [
        {
          dedupeKey: 'site:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
          type: 'PAGE_VIEWED',
          source: 'site',
          occurredAt: '2026-11-28T11:58:00.000Z',
          receivedAt: RECEIVED.toISOString(),
          customer: { email: 'wen.ito.12@example.net' },
          properties: {
            url: view.data.url,
            path: '/products/rain-shell',
            referrer: 'https://www.google.com/',
            utm: { source: 'google', medium: 'organic', campaign: null, content: null, term: null },
          },
          personal: null,
        },
      ],
    });
    const anonymous = { ...view, data: { url: 'https://www.demo-outdoor.example/', referrer: '' } };
    const result = normaliseSite(body(anonymous), HEADERS, RECEIVED);
    expect(result.ok && result.events[0]).toMatchObject({
      customer: null,
      properties: { path: '/', referrer: null, utm: null },
    });
  });

  it('should keep email addresses, phones, other query parameters and page titles out of properties', () => {
    const view = {
      type: 'page.viewed',
      timestamp: '2026-11-28T11:58:00Z',
      data: {
        url: 'https://www.demo-outdoor.example/welcome?email=ada%40example.com&utm_source=newsletter&utm_term=%2B44%2020%207946%200958#ada',
        path: '/welcome/ada@example.com?email=ada@example.com',
        referrer: 'https://mail.example.net/read?from=ada@example.com&utm_medium=email',
        title: 'Welcome back, Ada Ito',
        email: 'ada@example.com',
      },
    };
    const viewed = normaliseSite(body(view), HEADERS, RECEIVED);
    expect(viewed.ok && viewed.events[0]).toMatchObject({
      customer: { email: 'ada@example.com' },
      properties: {
        url: 'https://www.demo-outdoor.example/welcome?utm_source=newsletter',
        path: '/welcome/(redacted)',
        referrer: 'https://mail.example.net/read?utm_medium=email',
        utm: { source: 'newsletter', medium: null, campaign: null, content: null, term: null },
      },
    });
    const form = {
      ...FORM,
      data: {
        ...FORM.data,
        pageUrl: 'https://www.demo-outdoor.example/contact?prefill=ada@example.com&utm_campaign=spring',
        utm: { source: 'ada@example.com', campaign: 'spring', term: '+1 212 555 0199' },
      },
    };
    const submitted = normaliseSite(body(form), HEADERS, RECEIVED);
    expect(submitted.ok && submitted.events[0]?.properties).toEqual({
      formId: 'contact-us',
      pageUrl: 'https://www.demo-outdoor.example/contact?utm_campaign=spring',
      utm: { source: null, medium: null, campaign: 'spring', content: null, term: null },
    });
    for (const result of [viewed, submitted]) {
      const properties = JSON.stringify(result.ok && result.events[0]?.properties);
      expect(properties).not.toMatch(/ada|@|7946|555|Ito/i);
    }
  });

  it('should need the webhook-id, its dedupe key', () => {
    expect(normaliseSite(body(FORM), { 'content-type': 'application/json' }, RECEIVED)).toEqual({
      ok: false,
      problems: ['webhook-id: header missing'],
    });
  });

  it('should refuse unknown types and malformed fields without quoting the form’s values', () => {
    const unknown = normaliseSite(body({ ...FORM, type: 'contact.created' }), HEADERS, RECEIVED);
    expect(!unknown.ok && unknown.problems).toEqual([expect.stringMatching(/^type: /)]);
    const broken = {
      ...FORM,
      timestamp: 'Saturday morning',
      data: {
        ...FORM.data,
        pageUrl: 'javascript:alert(1)',
        fields: [
          { name: 'email', value: 42 },
          { name: 'phone', value: '+1 212 555 0199' },
          { value: 'Rosa' },
        ],
      },
    };
    const result = normaliseSite(body(broken), HEADERS, RECEIVED);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.split(':')[0])).toEqual([
      'timestamp',
      'data.pageUrl',
      'data.fields[0].value',
      'data.fields[2].name',
    ]);
    const text = result.problems.join('\n');
    expect(text).not.toContain('555 0199');
    expect(text).not.toContain('Rosa');
    expect(text).not.toContain('Saturday');
  });
});
