/**
 * One valid telemetry sample (protocol/messages.ts), the broker's payload tests' starting point: text,
 * integers, a decimal, nulls where the schema allows them, an array and a datetime.
 */
export const telemetrySnapshot = {
  device: { manufacturer: 'OpenVPP', model: 'Test', serial: 's', version: '1' },
  inverter_ac_w: 3120, pv_w: 3200, grid_w: -2500, battery_w: null, battery_soc_pct: 54.2, load_w: 320,
  energy: { pv_total_wh: 1234567, grid_import_wh: 2345678, grid_export_wh: null },
  models: [1, 103, 802], ts: '2026-11-23T12:00:00.000Z',
}
