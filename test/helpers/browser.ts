// Report pages opened as a user would: Debian's Chromium, headless, driven by playwright-core
// (never a downloaded browser). Records console errors, page errors, dialogs and every request.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const chromiumPath = process.env.MEDSYNTH_CHROMIUM ?? '/usr/bin/chromium';

export interface OpenedPage {
  page: Page;
  errors: string[];
  requests: string[];
  dialogs: string[];
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: scripts/setup.sh installs Debian's chromium (apt-get install chromium)`);
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const opened: OpenedPage = { page, errors: [], requests: [], dialogs: [] };
  page.on('console', (m) => void (m.type() === 'error' && opened.errors.push(m.text())));
  page.on('pageerror', (e) => opened.errors.push(String(e)));
  page.on('request', (r) => opened.requests.push(r.url()));
  page.on('dialog', (d) => {
    opened.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return opened;
}
