// Prompt cleaning before tokenisation, as Wan's HuggingfaceTokenizer(clean='whitespace') does
// (W22 tokenizers.py):
//   basic_clean(text)      = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
//   whitespace_clean(text) = re.sub(r'\s+', ' ', text).strip()
//
// What is reproduced here, and what is not:
// - ftfy.fix_text: the deterministic fixes its defaults apply that occur in typed prompts, in ftfy's
//   order and, like ftfy, repeated until the text stops changing: complete HTML references unescaped
//   (only when the text has no '<', ftfy's "auto"), Latin ligatures split (ﬁ → fi), full-width and
//   half-width forms narrowed (fix_character_width: "，" → ",", ideographic space → " "), curly quotes
//   straightened (’ → ', “ ” → "), line breaks unified, terminal escapes and control characters removed
//   (ftfy 6's set), then NFC. NOT done: mojibake repair (fix_encoding: "Ã©" → "é"), C1-control and
//   byte-0xA0 restoration, lossy-sequence replacement, surrogate pairing; they only matter for text
//   that was mis-decoded somewhere, and a wrong guess would be worse than none.
// - html.unescape (twice): numeric references (&#233; &#xE9;) and the common named ones in
//   HTML_ENTITIES below (with ';', and &amp &lt &gt &quot without it, as Python accepts). Python knows
//   all 2,231 HTML5 names; an unknown name is left as typed.
// - whitespace: Python's str \s set (which differs from JS \s: it includes U+001C–U+001F and U+0085,
//   and not U+FEFF), collapsed to one space, then stripped.
// umT5's own normaliser (NFKC via the tokenizer.json "Precompiled" step) runs after this, inside the
// tokenizer.

/** Bumped whenever the cleaning changes, so cached prompt embeddings made with older rules are not reused. */
export const CLEAN_VERSION = 1;

const LIGATURES: Readonly<Record<string, string>> = {
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn', 'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž',
  'Ǉ': 'LJ', 'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj',
  'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st',
};

export const HTML_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', shy: '\u00ad',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', sbquo: '‚', ldquo: '“', rdquo: '”', bdquo: '„',
  laquo: '«', raquo: '»', middot: '·', bull: '•', deg: '°', times: '×', divide: '÷', plusmn: '±',
  copy: '©', reg: '®', trade: '™', euro: '€', pound: '£', yen: '¥', cent: '¢', sect: '§', para: '¶',
  eacute: 'é', egrave: 'è', ecirc: 'ê', aacute: 'á', agrave: 'à', acirc: 'â', auml: 'ä', ouml: 'ö', uuml: 'ü',
  ccedil: 'ç', ntilde: 'ñ', szlig: 'ß', iacute: 'í', oacute: 'ó', uacute: 'ú',
};
const NO_SEMICOLON = new Set(['amp', 'lt', 'gt', 'quot']);

/**
 * One pass of Python's html.unescape over numeric references and the names above. `requireSemicolon`:
 * only complete references (ftfy's own unescaping).
 */
export function htmlUnescape(text: string, requireSemicolon = false): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)/g, (whole, body: string) => {
    if (requireSemicolon && !body.endsWith(';')) return whole;
    if (body.startsWith('#')) {
      const hex = body[1] === 'x' || body[1] === 'X';
      const cp = parseInt(body.slice(hex ? 2 : 1).replace(/;$/, ''), hex ? 16 : 10);
      // Python gives U+FFFD for 0, surrogates and out-of-range code points.
      if (!Number.isFinite(cp) || cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(cp);
    }
    const semi = body.endsWith(';');
    const name = semi ? body.slice(0, -1) : body;
    const v = HTML_ENTITIES[name];
    if (v !== undefined && (semi || NO_SEMICOLON.has(name))) return v;
    // Python also accepts &amp etc. directly followed by letters ("&ampx" → "&x"); keep it simple: only
    // the exact four names without ';'.
    return whole;
  });
}

/** Python's str.isspace set, as used by re's \s on str and by str.strip(). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'g');
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

const pyStrip = (s: string): string => s.replace(PY_STRIP, '');

// These patterns match control characters on purpose.
// eslint-disable-next-line no-control-regex
const TERMINAL_ESCAPE = /\x1b\[[0-9;]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;

/** One round of the ftfy steps kept here, in ftfy's order. */
function fixOnce(text: string, unescape: boolean): string {
  // unescape_html: ftfy only touches complete references ("&name;", "&#123;").
  let t = unescape ? htmlUnescape(text, true) : text;
  t = t.replace(/[ĲĳŉǱǲǳǄǅǆǇǈǉǊǋǌﬀﬁﬂﬃﬄﬅﬆ]/g, (c) => LIGATURES[c] ?? c); // fix_latin_ligatures
  // fix_character_width: U+FF01–U+FFEF to their NFKC form where it differs; U+3000 to a space.
  t = t.replace(/[\uff01-\uffef]/g, (c) => c.normalize('NFKC')).replace(/\u3000/g, ' ');
  t = t.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"'); // uncurl_quotes
  t = t.replace(/\r\n|[\r\u2028\u2029\u0085]/g, '\n'); // fix_line_breaks
  t = t.replace(TERMINAL_ESCAPE, ''); // remove_terminal_escapes
  // remove_control_chars (ftfy 6): C0 controls except \t \n \f \r, DEL, deprecated Arabic format
  // chars, BOM, interlinear annotation and the object replacement character.
  t = t.replace(CONTROL_CHARS, '');
  return t.normalize('NFC');
}

/**
 * The subset of ftfy.fix_text described in the header. Like ftfy, the steps repeat until the text stops
 * changing, and HTML references are only unescaped when the text has no '<' (ftfy's "auto").
 */
export function fixText(text: string): string {
  const unescape = !text.includes('<');
  let t = text;
  for (let i = 0; i < 16; i++) {
    const next = fixOnce(t, unescape);
    if (next === t) break;
    t = next;
  }
  return t;
}

/** Wan's clean='whitespace': basic_clean then whitespace_clean. */
export function cleanPrompt(text: string): string {
  const basic = pyStrip(htmlUnescape(htmlUnescape(fixText(text))));
  return pyStrip(basic.replace(PY_SPACE_RUN, ' '));
}
