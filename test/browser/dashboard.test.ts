import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startNeighbourhood, type RunningNeighbourhood } from '../../cli/neighbourhood.ts'
import { createLogger } from '../../platform/logger.ts'
import { haveChromium, launchChromium } from '../helpers/chromium.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const dashboardDir = fileURLToPath(new URL('../../dashboard/dist', import.meta.url))
let hood: RunningNeighbourhood
let browser: Browser
let page: Page
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

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([])
  })
})
