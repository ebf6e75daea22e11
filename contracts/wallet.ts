import { createPublicClient, createWalletClient, http, parseSignature, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { VppError } from '../protocol/errors.ts'
import { formatTokenAmount } from '../protocol/units.ts'
import { chainFor } from './deploy.ts'
import { devStablecoinAbi, energySettlementAbi } from './generated/artifacts.ts'

/** Where a homeowner's money is: in its wallet, in escrow, promised to a withdrawal. Base units. */
export interface WalletStatus {
  owner: Address
  token: Address
  symbol: string
  decimals: number
  /** The stablecoin in the owner's own wallet, free to deposit. */
  walletBaseUnits: bigint
  /** Escrow in the settlement contract: what its bids and offers stand on. */
  escrowBaseUnits: bigint
  /** A requested withdrawal and when it may be taken (unix seconds), if any. */
  pendingWithdrawal: { baseUnits: bigint; withdrawableAt: number } | null
}

/** A homeowner's escrow, with its own key, on the chain of the settlement contract. */
export class EscrowWallet {
  private readonly publicClient
  private readonly wallet
  readonly owner: Address

  private constructor(
    private readonly rpcUrl: string,
    private readonly settlement: Address,
    key: Hex,
    chainId: number,
  ) {
    const chain = chainFor(chainId, rpcUrl)
    const transport = http(rpcUrl)
    const account = privateKeyToAccount(key)
    this.owner = account.address
    this.publicClient = createPublicClient({ chain, transport, pollingInterval: 250 })
    this.wallet = createWalletClient({ account, chain, transport })
  }

  static async open(rpcUrl: string, settlement: Address, key: Hex): Promise<EscrowWallet> {
    try {
      const chainId = await createPublicClient({ transport: http(rpcUrl) }).getChainId()
      return new EscrowWallet(rpcUrl, settlement, key, chainId)
    } catch (error) {
      throw new VppError('VPP_ERR_CHAIN', `cannot reach the chain at ${rpcUrl}: ${(error as Error).message}`)
    }
  }

  async status(): Promise<WalletStatus> {
    const token = await this.read('token')
    const [symbol, decimals, walletBaseUnits, account, pending] = await Promise.all([
      this.publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'symbol' }),
      this.publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'decimals' }),
      this.publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'balanceOf', args: [this.owner] }),
      this.publicClient.readContract({ address: this.settlement, abi: energySettlementAbi, functionName: 'accounts', args: [this.owner] }),
      this.publicClient.readContract({ address: this.settlement, abi: energySettlementAbi, functionName: 'pendingWithdrawal', args: [this.owner] }),
    ])
    const [escrowBaseUnits, , withdrawableAt] = account
    return {
      owner: this.owner,
      token,
      symbol,
      decimals,
      walletBaseUnits,
      escrowBaseUnits: BigInt(escrowBaseUnits),
      pendingWithdrawal: withdrawableAt === 0 ? null : { baseUnits: pending, withdrawableAt: Number(withdrawableAt) },
    }
  }

  /**
   * Moves `amount` from the wallet into escrow with one EIP-2612 permit signature and one transaction
   * (no separate approval). Refuses, with the numbers, when the wallet holds less.
   */
  async deposit(amount: bigint): Promise<Hex> {
    const status = await this.status()
    if (amount <= 0n) throw new VppError('VPP_ERR_CONFIG', 'the amount to deposit must be more than 0')
    if (status.walletBaseUnits < amount) {
      throw new VppError(
        'VPP_ERR_CONFIG',
        `the wallet ${this.owner} holds ${formatTokenAmount(status.walletBaseUnits, status.decimals)} ${status.symbol}, less than the ${formatTokenAmount(amount, status.decimals)} ${status.symbol} to deposit`,
      )
    }
    const domain = await this.permitDomain(status.token)
    const nonce = await this.publicClient.readContract({ address: status.token, abi: devStablecoinAbi, functionName: 'nonces', args: [this.owner] })
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const signature = await this.wallet.account.signTypedData({
      domain,
      types: { Permit: [{ name: 'owner', type: 'address' }, { name: 'spender', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'nonce', type: 'uint256' }, { name: 'deadline', type: 'uint256' }] },
      primaryType: 'Permit',
      message: { owner: this.owner, spender: this.settlement, value: amount, nonce, deadline },
    })
    const { r, s, v } = parseSignature(signature)
    return this.send('deposit', () => this.wallet.writeContract({ address: this.settlement, abi: energySettlementAbi, functionName: 'depositWithPermit', args: [amount, deadline, Number(v), r, s] }))
  }

  /** Announces a withdrawal of `amount`; it may be taken once the contract's delay has passed. */
  async requestWithdrawal(amount: bigint): Promise<{ tx: Hex; withdrawableAt: number }> {
    if (amount <= 0n) throw new VppError('VPP_ERR_CONFIG', 'the amount to withdraw must be more than 0')
    const tx = await this.send('withdrawal request', () => this.wallet.writeContract({ address: this.settlement, abi: energySettlementAbi, functionName: 'requestWithdrawal', args: [amount] }))
    return { tx, withdrawableAt: (await this.status()).pendingWithdrawal!.withdrawableAt }
  }

  /** Takes a requested withdrawal whose delay has passed; says when it can be taken if not yet. */
  async completeWithdrawal(): Promise<Hex> {
    const status = await this.status()
    if (!status.pendingWithdrawal) throw new VppError('VPP_ERR_CONFIG', 'no withdrawal requested: run vpp wallet withdraw AMOUNT first')
    const now = Number((await this.publicClient.getBlock({ blockTag: 'pending' })).timestamp)
    if (now < status.pendingWithdrawal.withdrawableAt) {
      throw new VppError('VPP_ERR_CONFIG', `the withdrawal may be taken from ${new Date(status.pendingWithdrawal.withdrawableAt * 1000).toISOString()} (in ${status.pendingWithdrawal.withdrawableAt - now} s)`)
    }
    return this.send('withdrawal', () => this.wallet.writeContract({ address: this.settlement, abi: energySettlementAbi, functionName: 'withdraw' }))
  }

  /** The token's EIP-712 domain for permits: EIP-5267's `eip712Domain()`, else its name and version (USDC: "2"). */
  private async permitDomain(token: Address) {
    const chainId = await this.publicClient.getChainId()
    try {
      const [, name, version] = await this.publicClient.readContract({ address: token, abi: eip5267Abi, functionName: 'eip712Domain' })
      return { name, version, chainId, verifyingContract: token }
    } catch {
      const name = await this.publicClient.readContract({ address: token, abi: devStablecoinAbi, functionName: 'name' })
      const version = await this.publicClient.readContract({ address: token, abi: versionAbi, functionName: 'version' }).catch(() => '1')
      return { name, version, chainId, verifyingContract: token }
    }
  }

  private read(functionName: 'token') {
    return this.publicClient.readContract({ address: this.settlement, abi: energySettlementAbi, functionName }).catch((error: unknown) => {
      throw new VppError('VPP_ERR_CHAIN', `cannot read the settlement contract at ${this.settlement} on ${this.rpcUrl}: ${(error as { shortMessage?: string }).shortMessage ?? String(error)}`)
    })
  }

  private async send(what: string, write: () => Promise<Hex>): Promise<Hex> {
    let hash: Hex
    try {
      hash = await write()
    } catch (error) {
      throw new VppError('VPP_ERR_CHAIN', `${what} refused: ${(error as { shortMessage?: string }).shortMessage ?? String(error)}`)
    }
    const receipt = await this.publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new VppError('VPP_ERR_CHAIN', `${what} reverted (tx ${hash})`)
    return hash
  }
}

const eip5267Abi = [
  {
    type: 'function',
    name: 'eip712Domain',
    stateMutability: 'view',
    inputs: [],
    outputs: [
      { name: 'fields', type: 'bytes1' },
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
      { name: 'salt', type: 'bytes32' },
      { name: 'extensions', type: 'uint256[]' },
    ],
  },
] as const
const versionAbi = [{ type: 'function', name: 'version', stateMutability: 'view', inputs: [], outputs: [{ name: '', type: 'string' }] }] as const
