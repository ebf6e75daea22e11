import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword } from '../../broker/credentials.ts'
import { createLogger } from '../../platform/logger.ts'
import { topics } from '../../protocol/topics.ts'
import { REDIS_SERVER, startRedis } from '../helpers/redis.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { missing } from '../helpers/requires.ts'

const community = 'street'
let redis: Awaited<ReturnType<typeof startRedis>>
let brokerA: RunningBroker
let brokerB: RunningBroker

describe.skipIf(missing('Redis', REDIS_SERVER, 'apt-get install -y redis-server'))('cluster mode: two brokers on one Redis', () => {
  beforeAll(async () => {
    redis = await startRedis()
    const users = [
      { username: 'home-01', passwordHash: hashPassword('pw1', 1024), role: 'agent' as const, community },
      { username: 'market', passwordHash: hashPassword('pwm', 1024), role: 'market' as const, community },
    ]
    brokerA = await startBroker({ users, redisUrl: redis.url, logger: createLogger('a', 'silent') })
    brokerB = await startBroker({ users, redisUrl: redis.url, logger: createLogger('b', 'silent') })
  })
  afterAll(async () => {
    await brokerA?.close()
    await brokerB?.close()
    await redis?.stop()
  })

  it('carries an agent on broker A to the market on broker B, both ways, retained state included', async () => {
    const agent = await mqtt.connectAsync(brokerA.url, { clientId: 'home-01', username: 'home-01', password: 'pw1', reconnectPeriod: 0 })
    const market = await mqtt.connectAsync(brokerB.url, { clientId: 'market', username: 'market', password: 'pwm', reconnectPeriod: 0 })

    // Agent → market across brokers.
    const atMarket: string[] = []
    market.on('message', (topic, payload) => atMarket.push(`${topic} ${payload.toString()}`))
    await market.subscribeAsync(topics.allAgents(community, 'state'), { qos: 1 })
    await agent.publishAsync(topics.agent(community, 'home-01', 'state'), '{"online":true,"session":3}', { qos: 1, retain: true })
    await waitFor('the state on broker B', () => atMarket.length === 1)
    expect(atMarket).toEqual([`${topics.agent(community, 'home-01', 'state')} {"online":true,"session":3}`])

    // Market → agent across brokers: its award.
    const atAgent: string[] = []
    agent.on('message', (_t, payload) => atAgent.push(payload.toString()))
    await agent.subscribeAsync(topics.agent(community, 'home-01', 'awards'), { qos: 1 })
    await market.publishAsync(topics.agent(community, 'home-01', 'awards'), '{"interval":1}', { qos: 1 })
    await waitFor('the award on broker A', () => atAgent.length === 1)
    expect(atAgent).toEqual(['{"interval":1}'])

    // A subscriber arriving later on broker B gets the state retained through Redis.
    const late = await mqtt.connectAsync(brokerB.url, { clientId: 'market:late', username: 'market', password: 'pwm', reconnectPeriod: 0 })
    const retained = new Promise<string>((resolve) => late.on('message', (_t, p) => resolve(p.toString())))
    await late.subscribeAsync(topics.agent(community, 'home-01', 'state'), { qos: 1 })
    expect(await retained).toBe('{"online":true,"session":3}')

    await Promise.all([agent.endAsync(), market.endAsync(), late.endAsync()])
  })
})
