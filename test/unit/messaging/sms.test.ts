import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isE164, phoneProblem } from '../../../shared/channels/sms/address.js';
import { smsParts } from '../../../shared/channels/sms/encoding.js';
import { smsKeyword } from '../../../shared/channels/sms/keywords.js';

describe('smsParts', () => {
  it('fits 160 GSM-7 characters in one part and 153 per part beyond', () => {
    assert.deepEqual(smsParts('Hello'), { encoding: 'GSM-7', parts: 1, units: 5, nonGsmCharacters: [] });
    assert.equal(smsParts('a'.repeat(160)).parts, 1);
    assert.equal(smsParts('a'.repeat(161)).parts, 2);
    assert.equal(smsParts('a'.repeat(306)).parts, 2);
    assert.equal(smsParts('a'.repeat(307)).parts, 3);
    assert.equal(smsParts('').parts, 0);
  });

  it('counts extension characters as two septets and never splits one across parts', () => {
    assert.deepEqual(smsParts('€'.repeat(80)), {
      encoding: 'GSM-7',
      parts: 1,
      units: 160,
      nonGsmCharacters: [],
    });
    assert.equal(smsParts('€'.repeat(81)).parts, 2);
    // 152 septets then an escape pair: the pair goes whole into part 2.
    const text = `${'a'.repeat(152)}€${'a'.repeat(152)}`;
    assert.equal(smsParts(text).units, 306);
    assert.equal(smsParts(text).parts, 3);
    assert.equal(smsParts('{ } [ ] ~ \\ ^ |').units, 23);
  });

  it('switches the whole text to UCS-2 for one character outside GSM-7: 70, then 67 per part', () => {
    const one = smsParts(`Olá ${'a'.repeat(60)} ж`);
    assert.equal(one.encoding, 'UCS-2');
    assert.deepEqual(one.nonGsmCharacters, ['á', 'ж']);
    assert.equal(smsParts('ж'.repeat(70)).parts, 1);
    assert.equal(smsParts('ж'.repeat(71)).parts, 2);
    assert.equal(smsParts('ж'.repeat(134)).parts, 2);
    assert.equal(smsParts('ж'.repeat(135)).parts, 3);
  });

  it('keeps a surrogate pair (emoji) whole: two units each', () => {
    assert.deepEqual(smsParts('😀'.repeat(35)), {
      encoding: 'UCS-2',
      parts: 1,
      units: 70,
      nonGsmCharacters: ['😀'],
    });
    // 36 emoji = 72 units: 33 fit in the first part (66 of 67), 3 in the second.
    assert.equal(smsParts('😀'.repeat(36)).parts, 2);
    assert.equal(smsParts('😀'.repeat(67)).parts, 3, '33 + 33 + 1');
  });

  it('treats GSM-7 accented letters as GSM-7 (é, è, Ç are in the basic table)', () => {
    assert.equal(smsParts('Café crème, Ça va?').encoding, 'GSM-7');
  });
});

describe('E.164 phone numbers', () => {
  it('accepts + country code and 7 to 15 digits', () => {
    for (const good of ['+33612345678', '+14155550100', '+447700900123', '+8613800138000'])
      assert.ok(isE164(good), good);
  });

  it('says what is wrong with anything else', () => {
    assert.equal(phoneProblem(undefined), 'no phone number');
    assert.equal(phoneProblem(''), 'no phone number');
    assert.equal(phoneProblem(33612345678), 'the phone number must be a string');
    assert.match(phoneProblem('0612345678') ?? '', /must be E\.164: a "\+" then the country code/);
    assert.match(phoneProblem('+33 6 12 34 56 78') ?? '', /no spaces or punctuation/);
    assert.match(phoneProblem('+0612345678') ?? '', /E\.164/);
    assert.match(phoneProblem('+1234567890123456') ?? '', /7 to 15 digits/);
    assert.equal(phoneProblem('+33612345678'), undefined);
  });
});

describe('SMS keywords', () => {
  it('reads STOP, START and HELP and their synonyms from the first word, any case', () => {
    for (const body of ['STOP', 'stop', '  Stop please ', 'UNSUBSCRIBE', 'cancel', 'Arret', 'QUIT'])
      assert.equal(smsKeyword(body), 'opt-out', body);
    for (const body of ['START', 'unstop', 'Yes']) assert.equal(smsKeyword(body), 'opt-in', body);
    for (const body of ['HELP', 'info']) assert.equal(smsKeyword(body), 'help', body);
  });

  it('leaves ordinary replies alone, including words that only contain a keyword', () => {
    for (const body of ['Thanks!', 'stopped by the shop', 'constructor', '__proto__', '', 'please STOP'])
      assert.equal(smsKeyword(body), undefined, body);
  });
});
