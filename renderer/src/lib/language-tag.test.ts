import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validLanguageTag } from './language-tag.js';

test('a POSIX-style browser language becomes a tag Intl accepts', () => {
  assert.throws(() => new Intl.NumberFormat('en-US@posix'), RangeError);
  assert.equal(validLanguageTag('en-US@posix'), 'en-US');
  assert.equal(validLanguageTag('de_DE.UTF-8'), 'de-DE');
  assert.equal(validLanguageTag('fr-CA'), 'fr-CA');
  assert.equal(validLanguageTag(undefined), 'en-US');
  assert.equal(validLanguageTag('@@@'), 'en-US');
  assert.doesNotThrow(() => new Intl.NumberFormat(validLanguageTag('en-US@posix')));
});
