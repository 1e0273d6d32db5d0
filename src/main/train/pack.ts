// Packs named Float32 tensors into one BLOB for checkpoints: [u32 header length][JSON header][data].

/** A saved tensor: checkpoints store model weights and optimiser slots in this form. */
export interface SavedTensor {
  shape: number[];
  data: Float32Array;
}
export type SavedTensors = Record<string, SavedTensor>;

interface Entry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

export function packTensors(tensors: SavedTensors): Buffer {
  const entries: Entry[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    entries.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const header = Buffer.from(JSON.stringify(entries), 'utf8');
  // Pad the header so the float data starts 4-byte aligned.
  const headerLen = Math.ceil(header.length / 4) * 4;
  const out = Buffer.alloc(4 + headerLen + offset * 4);
  out.writeUInt32LE(headerLen, 0);
  header.copy(out, 4);
  const data = new Float32Array(out.buffer, out.byteOffset + 4 + headerLen, offset);
  for (const e of entries) data.set(tensors[e.name].data, e.offset);
  return out;
}

export function unpackTensors(blob: Buffer): SavedTensors {
  const headerLen = blob.readUInt32LE(0);
  const entries = JSON.parse(blob.subarray(4, 4 + headerLen).toString('utf8').replace(/\0+$/, '')) as Entry[];
  const body = blob.subarray(4 + headerLen);
  const all = new Float32Array(body.byteLength / 4);
  new Uint8Array(all.buffer).set(body);
  const out: SavedTensors = {};
  for (const e of entries) out[e.name] = { shape: e.shape, data: all.slice(e.offset, e.offset + e.length) };
  return out;
}
