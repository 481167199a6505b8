// The dashboard in a browser: headless Debian Chromium driven by playwright-core. Starts a small
// market (market.yaml) with marketctl, opens monitord's page, and checks that every node of the
// scenario is in the topology, that the price chart's points advance, that a partition made with
// `marketctl partition` shows as an alert and as cut links, and that the heal resolves both. It
// saves a screenshot (taken while the partition holds) as the test's artifact.
//
//   node dashboard_test.mjs <marketctl> <scenario.yaml> <screenshot.png>
//
// Without Chromium it says so and exits 77 (skipped), unless CI=true: then that is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(new URL('../web/package.json', import.meta.url));
const [marketctl, scenario, screenshot] = process.argv.slice(2);
const chromium = '/usr/bin/chromium';
const say = (m) => console.log(`dashboard: ${m}`);

if (!existsSync(chromium)) {
  if (process.env.CI === 'true') {
    say(`FAILED: ${chromium} is missing, and CI=true requires this test (deploy/install-deps.sh installs it)`);
    process.exit(1);
  }
  say(`skipped: no ${chromium} here (deploy/install-deps.sh installs it)`);
  process.exit(77);
}
let playwright;
try {
  playwright = require('playwright-core');
} catch {
  say('FAILED: playwright-core is not installed: run deploy/install-web.sh');
  process.exit(1);
}

const run = mkdtempSync(join(tmpdir(), 'mctl-dash-'));
const ctl = (...args) => {
  const r = spawnSync(marketctl, [...args, '--run', run], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`marketctl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
};
// Polls `probe` (in the page) until it returns something truthy, for at most `ms`.
async function until(page, what, probe, ms = 15000, arg = undefined) {
  try {
    return await page.waitForFunction(probe, arg, { timeout: ms, polling: 100 });
  } catch {
    throw new Error(`not within ${ms} ms: ${what}`);
  }
}

let browser;
let failed = false;
try {
  ctl('up', scenario, '--detach', '--sync', 'none');
  const state = readFileSync(join(run, 'state'), 'utf8');
  const port = /node id=monitor .*metrics=(\d+)/.exec(state)[1];
  const expected = [...state.matchAll(/node id=(\S+) role=(\S+)/g)]
    .filter((m) => m[2] !== 'monitor').map((m) => m[1]).sort();

  browser = await playwright.chromium.launch({
    executablePath: chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1500 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${port}/`);

  // Every node of the scenario in the graph.
  await until(page, 'the topology', () => window.dashboard.cy && window.dashboard.state);
  const shown = await page.evaluate(() =>
    window.dashboard.cy.nodes('[kind="node"]').map((n) => n.id()).sort());
  if (JSON.stringify(shown) !== JSON.stringify(expected)) {
    throw new Error(`the topology shows ${shown} instead of ${expected}`);
  }
  say(`the topology shows all ${shown.length} nodes`);
  await until(page, 'every node up', () => window.dashboard.state.nodes.every((n) => n.up));

  // The price chart's points advance.
  const lastTime = () => {
    const c = window.dashboard.charts.get('price-S');
    const xs = c ? c.plot.data[0] : [];
    return xs.length ? xs[xs.length - 1] : 0;
  };
  await until(page, 'price points', lastTime);
  const first = await page.evaluate(lastTime);
  await until(page, 'price points that advance', (f) => {
    const xs = window.dashboard.charts.get('price-S').plot.data[0];
    return xs[xs.length - 1] > f;
  }, 10000, first);
  say('the price chart advances');

  // A partition: the alert, and the exchange's links drawn cut.
  ctl('partition', 'ex-1');
  await until(page, 'the partition alert', () =>
    document.querySelector('#alerts-active li[data-rule="partition"]'));
  await until(page, 'cut links', () => window.dashboard.cy.edges('.cut').length > 0);
  say('the partition shows as an alert and as cut links');
  await page.screenshot({ path: screenshot, fullPage: true });
  say(`screenshot: ${screenshot}`);

  ctl('heal');
  await until(page, 'the alert resolved', () =>
    !document.querySelector('#alerts-active li[data-rule="partition"]') &&
    document.querySelector('#alerts-resolved li[data-rule="partition"]'));
  await until(page, 'no cut links', () => window.dashboard.cy.edges('.cut').length === 0);
  say('the heal resolves the alert and the cut');
  if (errors.length) throw new Error(`the page threw: ${errors.join('; ')}`);
  say('OK');
} catch (e) {
  failed = true;
  say(`FAILED: ${e.message}`);
} finally {
  if (browser) await browser.close();
  spawnSync(marketctl, ['down', '--run', run], { encoding: 'utf8' });
  if (!failed) rmSync(run, { recursive: true, force: true });
  else say(`the run folder is kept for its logs: ${run}`);
}
process.exit(failed ? 1 : 0);
