import type { Readable } from "node:stream";
import yauzl from "yauzl";

// Counts a workbook's rows for the archive verifier, which is bundled to one
// CommonJS file: so only node built-ins and yauzl, no spreadsheet library.

export interface SheetRows {
  name: string;
  /** Rows after the header row. */
  rows: number;
}

/** Each worksheet of an .xlsx file, in workbook order, with its data rows (rows less the header). */
export async function xlsxSheetRows(workbook: Buffer): Promise<SheetRows[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(workbook, { lazyEntries: true }, (error, zip) => (error || !zip ? reject(error) : resolve(zip))),
  );
  try {
    const entries = await entriesOf(zip);
    const entry = (path: string) => {
      const found = entries.get(path);
      if (!found) throw new Error(`the workbook has no ${path}`);
      return found;
    };
    const book = await text(await open(zip, entry("xl/workbook.xml")));
    const rels = await text(await open(zip, entry("xl/_rels/workbook.xml.rels")));
    const targets = new Map<string, string>();
    for (const [tag] of rels.matchAll(/<Relationship\b[^>]*>/g)) targets.set(attribute(tag, "Id") ?? "", attribute(tag, "Target") ?? "");
    const sheets: SheetRows[] = [];
    for (const [tag] of book.matchAll(/<sheet\b[^>]*>/g)) {
      const name = attribute(tag, "name");
      const target = targets.get(attribute(tag, "r:id") ?? "");
      if (name === undefined || !target) throw new Error(`the workbook lists a sheet without its name or file: ${tag}`);
      // Targets are relative to xl/ unless they start at the package root.
      const path = target.startsWith("/") ? target.slice(1) : `xl/${target}`;
      const rows = await countRows(await open(zip, entry(path)));
      sheets.push({ name, rows: Math.max(0, rows - 1) });
    }
    return sheets;
  } finally {
    zip.close();
  }
}

function entriesOf(zip: yauzl.ZipFile): Promise<Map<string, yauzl.Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    zip.on("error", reject);
    // exceljs names some entries with a leading slash; a reader finds them either way.
    zip.on("entry", (entry: yauzl.Entry) => {
      const name = entry.fileName.replace(/^\//, "");
      // Two parts of one name would let readers disagree on which one counts.
      if (entries.has(name)) return reject(new Error(`the workbook has two ${name}`));
      entries.set(name, entry);
      zip.readEntry();
    });
    zip.on("end", () => resolve(entries));
    zip.readEntry();
  });
}

function open(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error || !stream ? reject(error) : resolve(stream))));
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const ROW = Buffer.from("<row");

/**
 * Counts `<row` elements in a sheet's XML as it streams by, never holding the
 * sheet: text cannot hide one, since XML escapes `<` inside text. The byte
 * after `<row` must end the name, so `<rowBreaks>` is not counted.
 */
async function countRows(stream: Readable): Promise<number> {
  let rows = 0;
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of stream) {
    // The last few bytes of a chunk are kept to find a tag split across two chunks.
    const data = carry.length ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
    let i = data.indexOf(ROW);
    for (; i !== -1 && i + ROW.length < data.length; i = data.indexOf(ROW, i + 1)) {
      if (isNameEnd(data[i + ROW.length])) rows++;
    }
    // Keep a `<row` whose next byte has not come yet, or else the last bytes, which may start one.
    carry = data.subarray(i !== -1 ? i : Math.max(0, data.length - (ROW.length - 1)));
  }
  return rows;
}

const isNameEnd = (byte: number) => byte === 0x20 || byte === 0x3e || byte === 0x2f || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/** An attribute's value from one start tag, its XML entities decoded. */
function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name.replace(":", "\\:")}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  if (!match) return undefined;
  return (match[1] ?? match[2]).replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] === "#") return String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e]!;
  });
}
