import { describe, expect, it } from 'vitest';
import {
  containsEmail,
  looksLikePhone,
  looksPersonal,
  pathWithoutPersonalData,
  REDACTED,
  urlWithoutPersonalData,
} from '../../lib/personal-data.js';
import { parseUtm } from '../../lib/utm.js';

describe('personal data detection', () => {
  it('should find an email address anywhere, escaped or not', () => {
    for (const text of [
      'ada@example.com',
      'Ada.Ito+news@mail.example.co.uk',
      'welcome ada@example.com!',
      'ada%40example.com',
      'ada%2540example.com',
    ])
      expect(containsEmail(text), text).toBe(true);
    for (const text of ['spring-sale', '@handle', 'ada@localhost', 'a@b', 'paid_social', ''])
      expect(containsEmail(text), text).toBe(false);
  });

  it('should take international and grouped numbers for phones, not ids, dates or words', () => {
    for (const text of [
      '+44 20 7946 0958',
      '+12125550199',
      '(212) 555-0199',
      '212.555.0199',
      '%2B4915112345678',
    ])
      expect(looksLikePhone(text), text).toBe(true);
    for (const text of ['820982911946154508', '2026-03-01', '12345', '+123', 'spring-2026', 'hero', '1-2'])
      expect(looksLikePhone(text), text).toBe(false);
  });

  it('should call personal whatever holds an address or is a phone', () => {
    expect(looksPersonal('ada@example.com')).toBe(true);
    expect(looksPersonal('+1 212 555 0199')).toBe(true);
    expect(looksPersonal('autumn-drop')).toBe(false);
  });
});

describe('URLs without personal data', () => {
  it('should keep only attribution parameters whose values are not personal, and drop the fragment', () => {
    expect(
      urlWithoutPersonalData(
        'https://www.demo-outdoor.example/welcome?email=ada%40example.com&name=Ada+Ito&utm_source=newsletter&utm_term=ada@example.com&gclid=Cj0KCQ&UTM_Campaign=spring#hello-ada',
      ),
    ).toBe('https://www.demo-outdoor.example/welcome?utm_source=newsletter&gclid=Cj0KCQ&utm_campaign=spring');
  });

  it('should drop credentials, the whole query when nothing is allowed, and keep the port', () => {
    expect(urlWithoutPersonalData('https://ada:secret@shop.example:8443/cart?token=abc#x')).toBe(
      'https://shop.example:8443/cart',
    );
  });

  it('should redact path segments that hold an address or a phone number, keeping ids', () => {
    expect(pathWithoutPersonalData('/u/ada%40example.com/orders/820982911946154508')).toBe(
      `/u/${REDACTED}/orders/820982911946154508`,
    );
    expect(urlWithoutPersonalData('https://site.example/call/+44-20-7946-0958/')).toBe(
      `https://site.example/call/${REDACTED}/`,
    );
  });

  it('should keep only scheme and host of an app referrer, and refuse what is not a URL', () => {
    expect(urlWithoutPersonalData('android-app://com.google.android.gm/inbox/ada@example.com')).toBe(
      'android-app://com.google.android.gm',
    );
    expect(urlWithoutPersonalData('not a url')).toBeNull();
    expect(urlWithoutPersonalData('mailto:ada@example.com')).toBeNull();
  });
});

describe('UTM values', () => {
  it('should treat a personal UTM value as absent, keeping the others', () => {
    expect(
      parseUtm(
        '/products/rain-shell?utm_source=newsletter&utm_term=ada%40example.com&utm_content=%2B44%2020%207946%200958',
      ),
    ).toEqual({ source: 'newsletter', medium: null, campaign: null, content: null, term: null });
    expect(parseUtm('/?utm_term=ada@example.com')).toBeNull();
  });
});
