/**
 * A simulated warehouse fleet: devices streaming signed movements for a set of lots, with
 * duplicates and reordering injected the way flaky networks and resending firmware produce
 * them. It knows the ground truth (Σ signed quantity per lot over unique (device, seq)) so
 * tests and the benchmark can check that nothing was lost or counted twice.
 */
import { signMessage, topicFor } from '../src/modules/devices/contract';

export interface FleetDevice {
  id: string;
  secret: string;
}

export interface FleetMessage {
  topic: string;
  payload: string;
  deviceId: string;
  seq: number;
  /** Set by the publisher: when it left, for publish-to-commit latency. */
  sentAt?: number;
}

export interface FleetStream {
  messages: FleetMessage[];
  unique: number;
  truth: Map<string, number>;
}

/** Deterministic pseudo-random numbers, so a failing run can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateStream(options: { devices: FleetDevice[]; events: number; lots: string[]; skuCode: string; duplicateRate?: number; reorderWindow?: number; seed?: number; firstSeq?: number; at?: () => Date }): FleetStream {
  const random = rng(options.seed ?? 1);
  const seqs = new Map(options.devices.map((d) => [d.id, (options.firstSeq ?? 1) - 1]));
  const truth = new Map<string, number>();
  const unique: FleetMessage[] = [];
  for (let i = 0; i < options.events; i++) {
    const device = options.devices[i % options.devices.length]!;
    const seq = seqs.get(device.id)! + 1;
    seqs.set(device.id, seq);
    const lotCode = options.lots[Math.floor(random() * options.lots.length)]!;
    // Mostly inbound, so stock stays positive; quantities of 1-50 units.
    const direction = random() < 0.7 ? 'in' : 'out';
    const quantity = 1 + Math.floor(random() * 50);
    truth.set(lotCode, (truth.get(lotCode) ?? 0) + (direction === 'in' ? quantity : -quantity));
    const unsigned = { deviceId: device.id, seq, ts: (options.at?.() ?? new Date()).toISOString(), kind: 'movement' as const, body: { direction: direction as 'in' | 'out', lotCode, skuCode: options.skuCode, quantity } };
    const payload = JSON.stringify({ ...unsigned, sig: signMessage(device.secret, unsigned) });
    unique.push({ topic: topicFor(device.id, 'movement'), payload, deviceId: device.id, seq });
  }
  const messages: FleetMessage[] = [];
  for (const m of unique) {
    messages.push(m);
    if (random() < (options.duplicateRate ?? 0)) messages.push({ ...m });
  }
  // Reorder within a sliding window (a resend overtaken by newer messages).
  const window = options.reorderWindow ?? 0;
  for (let i = 0; i < messages.length && window > 1; i++) {
    const j = Math.min(messages.length - 1, i + Math.floor(random() * window));
    [messages[i], messages[j]] = [messages[j]!, messages[i]!];
  }
  return { messages, unique: unique.length, truth };
}
