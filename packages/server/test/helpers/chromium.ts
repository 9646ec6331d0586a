import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';


/**
 * Launches the real Chromium the browser tests drive (playwright-core downloads no browser). Without one,
 * says what to install instead of playwright's bare "Executable doesn't exist".
 */
export async function launchChromium(
  /** Where the browser tests find Chromium: GATEHOUSE_TEST_CHROMIUM, or /usr/bin/chromium. */
  executablePath = process.env.GATEHOUSE_TEST_CHROMIUM || '/usr/bin/chromium',
): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `The browser tests need Chromium, not found at ${executablePath}. Install it (Debian/Ubuntu: apt-get install ` +
        'chromium) or set GATEHOUSE_TEST_CHROMIUM to its executable; see README.md "Run the whole test suite".',
    );
  }
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
