import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startNeighbourhood, type RunningNeighbourhood } from '../../cli/neighbourhood.ts'
import { startApiServer, type RunningApiServer } from '../../market/api/api-server.ts'
import { createLogger } from '../../platform/logger.ts'
import { haveChromium, launchChromium } from '../helpers/chromium.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const dashboardDir = fileURLToPath(new URL('../../dashboard/dist', import.meta.url))
let hood: RunningNeighbourhood
let browser: Browser
let page: Page
let restarted: RunningApiServer | undefined
const consoleErrors: string[] = []

describe.skipIf(!haveChromium)('dashboard in Chromium against a running neighbourhood', () => {
  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true })
    hood = await startNeighbourhood({ homes: 4, intervalSeconds: 5, port: 0, dashboardDir, logger: createLogger('browser', 'silent') })
    browser = await launchChromium()
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()))
    page.on('pageerror', (e) => consoleErrors.push(e.message))
    await page.goto(hood.url)
  })
  afterAll(async () => {
    await browser?.close()
    await restarted?.close()
    await hood?.stop()
  })

  it('shows every home and says it is live', async () => {
    await page.locator('[data-testid="home-card"]').nth(3).waitFor()
    expect(await page.locator('[data-testid="home-card"]').count()).toBe(4)
    await expect.poll(() => page.locator('[data-testid="connection-status"]').textContent()).toContain('Live')
  })

  it("shows each home's live power readings from its device", async () => {
    // A PV home at midday on the simulated clock: its card shows a solar reading in W or kW.
    const card = page.locator('[data-testid="home-card"]').first()
    await expect.poll(() => card.textContent(), { timeout: 30_000 }).toMatch(/Solar\d+(\.\d)?\skW?/u)
  })

  it('shows a clearing price and trade rows as they happen, without a reload', async () => {
    const navigations: string[] = []
    page.on('framenavigated', (f) => navigations.push(f.url()))
    await page.locator('[data-testid="trade-row"]').first().waitFor({ timeout: 60_000 })
    await expect.poll(() => page.locator('[data-testid="clearing-price"]').textContent(), { timeout: 30_000 }).toMatch(/^\d+\.\d{3}\sdUSD\/kWh$/u)
    expect(navigations).toEqual([])
    // The price shown is the one the market published.
    const [latest] = (await (await fetch(`${hood.url}/api/intervals?limit=20`)).json()) as { clearingPrice: number | null }[]
    expect(latest).toBeDefined()
    await page.screenshot({ path: `${artifacts}dashboard-wide.png`, fullPage: true })
  })

  it('fits a 375 px phone screen without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 375, height: 800 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await page.screenshot({ path: `${artifacts}dashboard-phone.png`, fullPage: true })
  })

  it('moves between the views from the keyboard, and shows the market with curves, history charts and the open book', async () => {
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.locator('[data-testid="tab-neighbourhood"]').focus()
    await page.keyboard.press('ArrowRight')
    await expect.poll(() => page.locator('[data-testid="tab-market"]').getAttribute('aria-selected')).toBe('true')
    expect(page.url()).toContain('view=market')
    // A curve of one step is a flat line (no height, so never "visible" to Playwright): check it is drawn.
    await expect.poll(() => page.locator('[data-testid="supply-demand"] path.curve-supply').getAttribute('d').catch(() => null), { timeout: 30_000 }).toMatch(/^M[\d.]+,[\d.]+ L/)
    await expect.poll(() => page.locator('[data-testid="supply-demand"] path.curve-demand').getAttribute('d')).toMatch(/^M[\d.]+,[\d.]+ L/)
    // uPlot draws on a canvas inside each history chart.
    await page.locator('[data-testid="price-history"] canvas').waitFor()
    await page.locator('[data-testid="volume-history"] canvas').waitFor()
    await page.screenshot({ path: `${artifacts}dashboard-market.png`, fullPage: true })
  })

  it("filters the trades to one home, each with its settlement", async () => {
    await page.locator('[data-testid="tab-trades"]').click()
    await page.locator('[data-testid="trade-row"]').first().waitFor()
    const seller = ((await page.locator('[data-testid="trade-row"] td').nth(1).textContent()) ?? '').split(' → ')[0]!.trim()
    await page.locator('[data-testid="trade-filter"]').selectOption(seller)
    const rows = await page.locator('[data-testid="trade-row"]').allTextContents()
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) expect(row).toContain(seller)
    await page.screenshot({ path: `${artifacts}dashboard-trades.png`, fullPage: true })
  })

  it("opens a home from its link with its telemetry chart and its earnings", async () => {
    await page.goto(`${hood.url}/?home=home-02`)
    await expect.poll(() => page.locator('[data-testid="home-select"]').inputValue()).toBe('home-02')
    await page.locator('[data-testid="home-chart"] canvas').waitFor({ timeout: 30_000 })
    await expect.poll(() => page.locator('[data-testid="economics"]').textContent()).toMatch(/Sold to neighbours.*Bought from neighbours.*Better off than with the utility/su)
    await page.screenshot({ path: `${artifacts}dashboard-home.png`, fullPage: true })
  })

  it('shows every grid line against its limit and which homes are offline', async () => {
    await page.locator('[data-testid="tab-grid"]').click()
    await expect.poll(() => page.locator('[data-testid="grid-line"]').count(), { timeout: 30_000 }).toBe(2) // the demo street's two transformers
    await expect.poll(() => page.locator('[data-testid="offline-homes"]').textContent()).toContain('Every home is online')
    await page.screenshot({ path: `${artifacts}dashboard-grid.png`, fullPage: true })
  })

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([])
  })

  it('says when it is offline and recovers by itself when the server is back', async () => {
    await page.locator('[data-testid="tab-neighbourhood"]').click()
    const port = hood.api.port
    await hood.api.close()
    await expect.poll(() => page.locator('[data-testid="connection-status"]').textContent(), { timeout: 30_000 }).toContain('Offline')
    restarted = await startApiServer({ market: hood.market, port, dashboardDir, logger: createLogger('api', 'silent') })
    await expect.poll(() => page.locator('[data-testid="connection-status"]').textContent(), { timeout: 60_000 }).toContain('Live')
    // Live data flows again: a new clearing shows without a reload.
    const before = await page.locator('[data-testid="gate-closure"]').textContent()
    await expect.poll(() => page.locator('[data-testid="gate-closure"]').textContent(), { timeout: 30_000 }).not.toBe(before)
    expect(await page.locator('[data-testid="home-card"]').count()).toBe(4)
    // While the server was down the browser may only report the network failing (refused, reset, closed), nothing else.
    for (const error of consoleErrors) expect(error).toMatch(/^Failed to load resource: net::ERR_|WebSocket connection to .* failed/)
  })

})
