import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'playwright-core'
import { startNeighbourhood, type RunningNeighbourhood } from '../../cli/neighbourhood.ts'
import { startApiServer, type RunningApiServer } from '../../market/api/api-server.ts'
import { createLogger } from '../../platform/logger.ts'
import { CHROMIUM_PATH, launchChromium } from '../helpers/chromium.ts'
import { missing } from '../helpers/requires.ts'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { hashPassword } from '../../broker/credentials.ts'
import { joinDomain, joinMessage, joinTypes } from '../../protocol/members.ts'
import { EscrowWallet } from '../../contracts/wallet.ts'

const artifacts = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))
const dashboardDir = fileURLToPath(new URL('../../dashboard/dist', import.meta.url))
let hood: RunningNeighbourhood
let browser: Browser
let page: Page
let restarted: RunningApiServer | undefined
const consoleErrors: string[] = []

describe.skipIf(missing('Chromium', CHROMIUM_PATH, 'apt-get install -y chromium'))('dashboard in Chromium against a running neighbourhood', () => {
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

  it('an operator approves a join request on the operator page, on a 375 px phone', async () => {
    await page.setViewportSize({ width: 375, height: 800 })
    // A home asks to join, signed with its key.
    const key = generatePrivateKey()
    const account = privateKeyToAccount(key)
    const request = { community: hood.community, agentId: 'home-99', owner: account.address, node: '', passwordHash: hashPassword('home-99-password', 1024), requestedAt: Math.floor(Date.now() / 1000) }
    const signature = await account.signTypedData({ domain: joinDomain(hood.deployment.chainId, hood.deployment.settlement), types: joinTypes, primaryType: 'JoinRequest', message: joinMessage(request) })
    const asked = await fetch(`${hood.url}/api/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ request, signature }) })
    expect(asked.status).toBe(202)

    await page.goto(`${hood.url}/?view=members`)
    await page.locator('[data-testid="operator-token"]').fill(hood.operatorToken)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.locator('[data-testid="join-request"]', { hasText: 'home-99' }).waitFor({ timeout: 10_000 })
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await page.locator('[data-testid="approve-home-99"]').click()
    await expect.poll(() => page.locator('[data-testid="operator-message"]').textContent()).toContain('home-99 approved')
    await expect.poll(() => page.locator('[data-testid="member-row"]', { hasText: 'home-99' }).textContent()).toContain('active')
    await expect.poll(() => page.locator('[data-testid="join-request"]').count()).toBe(0)
    const status = (await (await fetch(`${hood.url}/api/join/home-99`)).json()) as { status: string }
    expect(status.status).toBe('approved')
    await page.screenshot({ path: `${artifacts}dashboard-members.png`, fullPage: true })
  })

  it("shows a home's escrow on My home, and its balance change after a settlement, on a 375 px phone", { timeout: 150_000 }, async () => {
    await page.setViewportSize({ width: 375, height: 800 })
    // A home that trades: the seller of the latest trade.
    const [latest] = (await (await fetch(`${hood.url}/api/trades?limit=1`)).json()) as { seller: string; sellerAgent: string }[]
    await page.goto(`${hood.url}/?home=${latest!.sellerAgent}`)
    const balance = page.locator('[data-testid="escrow-balance"]')
    await expect.poll(() => balance.textContent(), { timeout: 10_000 }).toMatch(/\d/)
    const settlements = page.locator('[data-testid="escrow-entry"][data-kind="settlement"]')
    const before = { text: (await balance.textContent())!, settled: await settlements.count() }
    // Wait (live, no reload) for the home's next settlement: its balance moves by that entry's amount.
    await expect.poll(() => settlements.count(), { timeout: 120_000 }).toBeGreaterThan(before.settled)
    await expect.poll(() => balance.textContent()).not.toBe(before.text)
    const onChain = (await (await fetch(`${hood.url}/api/escrow/${latest!.seller}/history`)).json()) as { balance: string }
    const shown = Number((await balance.textContent())!.replace(/[^\d.]/g, ''))
    expect(Math.abs(shown - Number(onChain.balance) / 1e6)).toBeLessThan(0.0001)
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)
    await page.screenshot({ path: `${artifacts}dashboard-escrow.png`, fullPage: true })
    await page.setViewportSize({ width: 1280, height: 900 })
  })

  it('flags, live, a home whose escrow cannot cover its bids', { timeout: 90_000 }, async () => {
    // A home that bids (the buyer of the latest trade) takes all its escrow out: its agent bids only
    // what nothing covers (nothing) and says so; the neighbourhood page shows it on that home alone.
    const [latest] = (await (await fetch(`${hood.url}/api/trades?limit=1`)).json()) as { buyerAgent: string }[]
    const home = hood.homes.find((h) => h.agentId === latest!.buyerAgent)!
    const wallet = await EscrowWallet.open(hood.chain.rpcUrl, hood.deployment.settlement, home.privateKey)
    await wallet.requestWithdrawal((await wallet.status()).escrowBaseUnits)
    await page.goto(hood.url)
    const card = page.locator('[data-testid="home-card"]', { hasText: home.agentId })
    await card.locator('[data-testid="escrow-short"]').waitFor({ timeout: 60_000 })
    expect(await page.locator('[data-testid="escrow-short"]').count()).toBe(1)
    await page.screenshot({ path: `${artifacts}dashboard-escrow-short.png`, fullPage: true })
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
    // Every member has its card: the four homes and the one approved on the operator page.
    expect(await page.locator('[data-testid="home-card"]').count()).toBe(((await (await fetch(`${hood.url}/api/agents`)).json()) as unknown[]).length)
    // While the server was down the browser may only report the network failing (refused, reset, closed), nothing else.
    for (const error of consoleErrors) expect(error).toMatch(/^Failed to load resource: net::ERR_|WebSocket connection to .* failed/)
  })

})
