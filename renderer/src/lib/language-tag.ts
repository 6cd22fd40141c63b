// Chromium reports a POSIX locale such as `C.UTF-8` as the language "en-US@posix", which is not a
// BCP 47 tag: `new Intl.NumberFormat(navigator.language)` then throws, and a library that does so
// while its module loads (the charting library does) would stop the whole studio from starting.
// Imported first by main.tsx, this replaces such a tag with its valid part before anything reads it.

/** The valid BCP 47 part of a browser language ("en-US@posix" → "en-US"), or "en-US". */
export function validLanguageTag(tag: string | undefined): string {
  for (const candidate of [tag, tag?.split(/[@.]/)[0]?.replace(/_/g, '-')]) {
    if (!candidate) continue;
    try {
      return Intl.getCanonicalLocales(candidate)[0] ?? 'en-US';
    } catch {
      // not a valid tag: try the next form
    }
  }
  return 'en-US';
}

const nav = (globalThis as { navigator?: { language?: string } }).navigator;
if (nav) {
  const tag = validLanguageTag(nav.language);
  if (tag !== nav.language) Object.defineProperty(nav, 'language', { value: tag, configurable: true });
}
