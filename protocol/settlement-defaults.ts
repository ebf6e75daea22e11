// Apart from contracts/deploy.ts so the simulator takes the contract's defaults without loading viem.

/** Parameters fixed at deployment, with the defaults a new community starts from. */
export const settlementDefaults = {
  /** 0.40 per kWh for a 6-decimal stablecoin: about a retail tariff, so a buyer left short is made whole. */
  imbalancePrice: 400_000,
  settlementWindow: 86_400,
  withdrawalDelay: 2 * 86_400,
  /** The market's default 15-minute interval. */
  intervalLength: 900,
} as const
