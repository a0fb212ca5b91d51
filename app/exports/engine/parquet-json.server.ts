/**
 * arrow-rs (parquet-wasm) writes JSON columns as plain UTF8 strings; Parquet
 * has an annotation saying a string column holds JSON, which readers such as
 * DuckDB and Spark use to give the column a JSON type. This rewrites a file's
 * footer (FileMetaData, Thrift compact protocol) so the named leaf columns
 * carry it: logicalType JSON and, for older readers, converted_type JSON.
 * Every other byte of the footer is copied as it was.
 * https://github.com/apache/parquet-format/blob/master/src/main/thrift/parquet.thrift
 */

const STOP = 0;
const STRUCT = 12;
const I32 = 5;
// SchemaElement's fields, and the JSON members of ConvertedType and the LogicalType union.
const NAME = 4;
const CONVERTED_TYPE = 6;
const LOGICAL_TYPE = 10;
const CONVERTED_JSON = 19;
const LOGICAL_JSON = 12;
const SCHEMA = 2;

class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  byte(): number {
    if (this.at >= this.bytes.length) throw new Error("the Parquet footer ends early");
    return this.bytes[this.at++];
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
  }

  zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** A field header: its id (after `previous`) and type; type 0 is the struct's end. */
  field(previous: number): { id: number; type: number } {
    const header = this.byte();
    const type = header & 0x0f;
    if (type === STOP) return { id: 0, type };
    const delta = header >> 4;
    return { id: delta === 0 ? this.zigzag() : previous + delta, type };
  }

  /** Moves past one value of a type. */
  skip(type: number): void {
    switch (type) {
      case 1: case 2: return; // booleans live in the field header
      case 3: this.at += 1; return;
      case 4: case 5: case 6: this.varint(); return;
      case 7: this.at += 8; return;
      case 8: {
        const length = this.varint(); // read before `this.at` is: `this.at += this.varint()` would lose the varint's bytes
        this.at += length;
        return;
      }
      case 9: case 10: {
        const header = this.byte();
        const size = header >> 4 === 15 ? this.varint() : header >> 4;
        const element = header & 0x0f;
        // A boolean in a collection is one byte of its own.
        for (let i = 0; i < size; i++) {
          if (element === 1 || element === 2) this.at++;
          else this.skip(element);
        }
        return;
      }
      case 11: {
        const size = this.varint();
        if (size === 0) return;
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          this.skip(types >> 4);
          this.skip(types & 0x0f);
        }
        return;
      }
      case STRUCT: {
        for (let id = 0; ; ) {
          const f = this.field(id);
          if (f.type === STOP) return;
          id = f.id;
          this.skip(f.type);
        }
      }
      default:
        throw new Error(`the Parquet footer holds an unknown Thrift type ${type}`);
    }
  }
}

/** A struct's fields as id, type and the raw bytes of the value. */
function fieldsOf(reader: Reader): { id: number; type: number; value: Uint8Array }[] {
  const fields = [];
  for (let id = 0; ; ) {
    const f = reader.field(id);
    if (f.type === STOP) return fields;
    id = f.id;
    const start = reader.at;
    reader.skip(f.type);
    fields.push({ id, type: f.type, value: reader.bytes.subarray(start, reader.at) });
  }
}

function varint(n: number): number[] {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A struct of these fields, in id order, with short or long field headers as compact protocol writes them. */
function structOf(fields: { id: number; type: number; value: Uint8Array }[]): Uint8Array {
  const out: number[] = [];
  let previous = 0;
  for (const f of [...fields].sort((a, b) => a.id - b.id)) {
    const delta = f.id - previous;
    if (delta > 0 && delta <= 15) out.push((delta << 4) | f.type);
    else out.push(f.type, ...varint(f.id * 2));
    out.push(...f.value);
    previous = f.id;
  }
  out.push(STOP);
  return Uint8Array.from(out);
}

/** FileMetaData with the named leaf columns annotated as JSON. */
export function annotateJsonColumns(metadata: Uint8Array, names: ReadonlySet<string>): Uint8Array {
  const reader = new Reader(metadata);
  for (let id = 0; ; ) {
    const f = reader.field(id);
    if (f.type === STOP) return metadata;
    id = f.id;
    if (id !== SCHEMA) {
      reader.skip(f.type);
      continue;
    }
    const header = reader.byte();
    const count = header >> 4 === 15 ? reader.varint() : header >> 4;
    const start = reader.at;
    const elements: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const elementStart = reader.at;
      const fields = fieldsOf(reader);
      const name = fields.find((e) => e.id === NAME);
      // A leaf has a physical type (field 1); groups, the root among them, have none.
      const leaf = fields.some((e) => e.id === 1);
      if (!leaf || !name || !names.has(decodeBinary(name.value))) {
        elements.push(metadata.subarray(elementStart, reader.at));
        continue;
      }
      const annotated = fields.filter((e) => e.id !== CONVERTED_TYPE && e.id !== LOGICAL_TYPE);
      annotated.push({ id: CONVERTED_TYPE, type: I32, value: Uint8Array.from(varint(CONVERTED_JSON * 2)) });
      // LogicalType { 12: JsonType {} }: a struct holding one empty struct.
      annotated.push({ id: LOGICAL_TYPE, type: STRUCT, value: Uint8Array.from([(LOGICAL_JSON << 4) | STRUCT, STOP, STOP]) });
      elements.push(structOf(annotated));
    }
    const end = reader.at;
    const out = Buffer.concat([metadata.subarray(0, start), ...elements, metadata.subarray(end)]);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }
}

/** A Thrift binary's bytes (its length varint first) as text. */
function decodeBinary(value: Uint8Array): string {
  const reader = new Reader(value);
  const length = reader.varint();
  return Buffer.from(value.subarray(reader.at, reader.at + length)).toString("utf8");
}

const MAGIC = 0x31524150; // "PAR1", little-endian

/**
 * The end of a Parquet file (`tail`: its last bytes, data and footer) with the
 * footer's JSON columns annotated. A tail that does not hold the whole footer
 * is returned as it is: the file stays valid, only unannotated.
 */
export function annotateTail(tail: Buffer, names: ReadonlySet<string>): Buffer {
  if (names.size === 0 || tail.length < 8 || tail.readUInt32LE(tail.length - 4) !== MAGIC) return tail;
  const length = tail.readUInt32LE(tail.length - 8);
  const start = tail.length - 8 - length;
  if (start < 0) return tail;
  const metadata = annotateJsonColumns(tail.subarray(start, tail.length - 8), names);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(metadata.length, 0);
  trailer.writeUInt32LE(MAGIC, 4);
  return Buffer.concat([tail.subarray(0, start), metadata, trailer]);
}

/**
 * Passes a Parquet file's bytes on as they come, one chunk behind: the
 * writer emits the footer with the last row group, in the last chunk, which
 * is annotated when the file ends.
 */
export class AnnotatingOutput {
  private held: Buffer | undefined;

  constructor(
    private send: (chunk: Uint8Array) => Promise<void>,
    private names: ReadonlySet<string>,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.held) await this.send(this.held);
    this.held = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }

  async end(): Promise<void> {
    if (this.held) await this.send(annotateTail(this.held, this.names));
    this.held = undefined;
  }
}
