// The browser the e2e specs drive through playwright-core (Playwright's own browser download does not
// work offline). A system Chromium (Debian's) when one is on PATH; otherwise the Chromium that ships inside the
// @sparticuz/chromium npm package, so `npm ci && npm test` needs no system packages.
// REFREE_TEST_BROWSER=system|bundled forces one (CI runs the specs with each); REFREE_CHROMIUM points at
// another system Chromium.
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/** The first executable of these names on PATH (Debian installs `chromium`; others `chromium-browser`). */
function onPath(names: readonly string[]): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const n of names) {
      const f = path.join(dir, n);
      try {
        accessSync(f, constants.X_OK);
        return f;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** A system Chromium: $REFREE_CHROMIUM, else the one on PATH; a name that does not exist when none is. */
export const SYSTEM_CHROMIUM = process.env.REFREE_CHROMIUM ?? onPath(['chromium', 'chromium-browser']) ?? 'chromium (not on PATH)';

export type BrowserKind = 'system' | 'bundled';

/** Which browser the specs use here; throws when REFREE_TEST_BROWSER asks for one that cannot be had. */
export function browserKind(): BrowserKind {
  const forced = process.env.REFREE_TEST_BROWSER;
  if (forced === 'system') {
    if (!existsSync(SYSTEM_CHROMIUM)) throw new Error(`REFREE_TEST_BROWSER=system, but there is no Chromium at ${SYSTEM_CHROMIUM} (apt-get install chromium, set REFREE_CHROMIUM, or unset REFREE_TEST_BROWSER to use the bundled one)`);
    return 'system';
  }
  if (forced === 'bundled') return 'bundled';
  if (forced !== undefined && forced !== '' && forced !== 'auto') throw new Error(`REFREE_TEST_BROWSER is "${forced}"; use system, bundled or auto`);
  return existsSync(SYSTEM_CHROMIUM) ? 'system' : 'bundled';
}

/** Why no browser can run the specs here (a skip reason), or null. */
export function chromiumMissing(): string | null {
  const kind = browserKind();
  // The bundled build is Linux-only (x64 and arm64).
  if (kind === 'bundled' && process.platform !== 'linux') return `no Chromium at ${SYSTEM_CHROMIUM} and the bundled @sparticuz/chromium runs on Linux only (set REFREE_CHROMIUM to a Chromium or Chrome binary)`;
  return null;
}

/** Chromium flags that give it a fake microphone (a beep) and grant getUserMedia without a prompt. */
export const FAKE_MEDIA_ARGS = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

// Without the background-networking flags Chromium keeps dialling out from a closed network.
const OUR_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];

// @sparticuz/chromium's flags are tuned for AWS Lambda; these would make the pages behave unlike a
// user's browser (no same-origin policy, one process for everything), so they are left out.
const BUNDLED_ARGS_DROPPED = new Set(['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials', '--single-process']);

let announced = false;

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const kind = browserKind();
  let executablePath = SYSTEM_CHROMIUM;
  let args = [...OUR_ARGS, ...extraArgs];
  if (kind === 'bundled') {
    const bundled = (await import('@sparticuz/chromium')).default;
    // Unpacks the brotli-compressed build to the temp folder once, then returns its path.
    executablePath = await bundled.executablePath();
    // Our --disable-gpu would turn off the SwiftShader WebGL the bundled build is set up for.
    args = [...bundled.args.filter((a) => !BUNDLED_ARGS_DROPPED.has(a)), ...args.filter((a) => a !== '--disable-gpu')];
  }
  const browser = await chromium.launch({ executablePath, headless: true, args });
  if (!announced) {
    announced = true;
    console.log(`e2e browser: ${kind === 'system' ? 'system' : 'bundled (@sparticuz/chromium)'} Chromium ${browser.version()} at ${executablePath}`);
  }
  return browser;
}
