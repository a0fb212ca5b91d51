import { Readable } from "node:stream";
import { to as copyTo } from "pg-copy-streams";
import { describe, expect, it } from "vitest";
import { arrowSchema, batchToIPC } from "../../app/exports/engine/arrow-batch.server";
import { binaryRows, columnBatches, columnsOf, type ColumnBatch } from "../../app/exports/engine/binary-copy.server";
import { getCopyPool } from "../../db/client";

// Every PostgreSQL type an export's columns have, with the values that are easy to get wrong:
// NULLs, times before 2000 (PostgreSQL's epoch) and before 1970, microseconds, 64-bit ids past
// 2^53, text beyond ASCII, jsonb (a version byte before its text), uuids.
const SELECT = `SELECT * FROM (VALUES
  (9007199254740993::int8, 7::int4, 3::int2, 1.5::float8, 0.25::float4, true, 'Zürich – 北京 😀'::text, 'v'::varchar,
   '2026-11-30T12:34:56.789012Z'::timestamptz, '2024-02-29'::date, '{"a": [1, "x"], "b": null}'::jsonb, '{"k":1}'::json,
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid),
  (-42::int8, -7::int4, -3::int2, -0.0::float8, 'NaN'::float4, false, '', '',
   '1969-07-20T20:17:40.000001Z'::timestamptz, '1900-01-01'::date, '[]'::jsonb, 'null'::json,
   '00000000-0000-0000-0000-000000000000'::uuid),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
) AS t(i8, i4, i2, f8, f4, b, t, v, ts, d, jb, j, u)`;

async function read(chunkSize?: number, select = SELECT) {
  const client = await getCopyPool().connect();
  try {
    const { columns, oids } = columnsOf((await client.query(`${select} LIMIT 0`)).fields);
    const copy = client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT binary)`));
    let source: Readable = copy;
    if (chunkSize) {
      // The same bytes cut into tiny chunks: every row and value split at every possible place.
      const chunks: Buffer[] = [];
      for await (const chunk of copy) chunks.push(chunk);
      const all = Buffer.concat(chunks);
      source = Readable.from(Array.from({ length: Math.ceil(all.length / chunkSize) }, (_, i) => all.subarray(i * chunkSize, (i + 1) * chunkSize)));
    }
    const bytes: Buffer[] = [];
    for await (const chunk of source) bytes.push(chunk);
    const rows = [];
    for await (const batch of binaryRows(Readable.from(bytes), oids)) rows.push(...batch);
    const batches: ColumnBatch[] = [];
    for await (const batch of columnBatches(Readable.from(bytes), columns, oids)) batches.push(batch);
    return { columns, rows, batches };
  } finally {
    client.release();
  }
}

describe("binary COPY rows", () => {
  it("reads each type as the value PostgreSQL holds, exactly", async () => {
    const { columns, rows } = await read();
    expect(columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      "i8:int64", "i4:int32", "i2:int32", "f8:double", "f4:double", "b:boolean", "t:string", "v:string",
      "ts:timestamp", "d:date", "jb:json", "j:json", "u:string",
    ]);
    expect(rows[0]).toEqual([
      9007199254740993n, 7, 3, 1.5, 0.25, true, "Zürich – 北京 😀", "v",
      BigInt(Date.parse("2026-11-30T12:34:56.789Z")) * 1000n + 12n, Date.parse("2024-02-29") / 86_400_000, '{"a": [1, "x"], "b": null}', '{"k":1}',
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ]);
    expect(rows[1]).toEqual([
      -42n, -7, -3, -0, NaN, false, "", "",
      BigInt(Date.parse("1969-07-20T20:17:40Z")) * 1000n + 1n, Date.parse("1900-01-01") / 86_400_000, "[]", "null",
      "00000000-0000-0000-0000-000000000000",
    ]);
    expect(rows[2]).toEqual(new Array(13).fill(null));
  });

  it("copies the same values into Arrow's column layout, in batches of 8192, as the rows give", async () => {
    // Every type, nulls in every column, across more than one batch: the column buffers make the very Arrow bytes the values do.
    const names = ["i8", "i4", "i2", "f8", "f4", "b", "t", "v", "ts", "d", "jb", "j", "u"];
    const nulled = names.map((c, k) => `CASE WHEN (n + ${k}) % 5 = 0 THEN NULL ELSE ${c} END AS ${c}`).join(", ");
    const wide = `SELECT ${nulled}, n FROM generate_series(1, 20000) AS n, (${SELECT}) AS t WHERE t.i8 IS NOT NULL ORDER BY n, i8`;
    const { columns, rows, batches } = await read(undefined, wide);
    expect(batches.map((b) => b.rows)).toEqual([8192, 8192, 8192, 8192, 40_000 - 4 * 8192]);
    const schema = arrowSchema(columns);
    let at = 0;
    for (const batch of batches) {
      expect(Buffer.from(batchToIPC(schema, columns, batch)).equals(Buffer.from(batchToIPC(schema, columns, rows.slice(at, at + batch.rows))))).toBe(true);
      at += batch.rows;
    }
    const ipc = (list: ColumnBatch[]) => Buffer.concat(list.map((batch) => batchToIPC(schema, columns, batch)));
    expect(ipc((await read(1000, wide)).batches).equals(ipc(batches))).toBe(true);
  });

  it("reads the same rows whatever chunks the stream arrives in", async () => {
    const whole = await read();
    for (const size of [1, 2, 3, 7, 19, 64]) expect((await read(size)).rows).toEqual(whole.rows);
  });

  it("refuses a stream cut before its trailer, rather than return fewer rows", async () => {
    const client = await getCopyPool().connect();
    try {
      const { oids } = columnsOf((await client.query(`${SELECT} LIMIT 0`)).fields);
      const chunks: Buffer[] = [];
      for await (const chunk of client.query(copyTo(`COPY (${SELECT}) TO STDOUT WITH (FORMAT binary)`))) chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const consume = async (bytes: Buffer) => {
        for await (const batch of binaryRows(Readable.from([bytes]), oids)) void batch;
      };
      await expect(consume(all.subarray(0, all.length - 2))).rejects.toThrow(/ended before its trailer/);
      await expect(consume(all.subarray(0, all.length - 40))).rejects.toThrow(/ended before its trailer/);
      await expect(consume(Buffer.from("not a copy stream at all"))).rejects.toThrow(/not a binary COPY stream/);
    } finally {
      client.release();
    }
  });

  it("names a column whose type no file format takes", () => {
    expect(() => columnsOf([{ name: "shape", dataTypeID: 600 }])).toThrow(/column shape: no file type for PostgreSQL type 600/);
  });
});
