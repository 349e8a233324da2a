// Converts a JSONL dataset to Parquet with hyparquet-writer (an independent writer, from npm).
// usage: node jsonl2parquet.mjs IN.jsonl OUT.parquet [--codec SNAPPY|GZIP|ZSTD|UNCOMPRESSED]
//          [--row-group N] [--list-item element|item] [--as-int COLUMN] [--drop COLUMN]
//          [--stream]   (string columns only, the first line's; any size: a row group at a time)
import { createReadStream, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { gzipSync } from 'node:zlib'
import { fileWriter, parquetWriteFile, parquetWriteRows } from 'hyparquet-writer'
import zstdCodec from 'zstd-codec'

const [, , input, output, ...rest] = process.argv
const opt = { codec: 'SNAPPY', rowGroup: 1000, listItem: 'element', asInt: null, drop: null }
for (let i = 0; i < rest.length; i += 2) {
  const v = rest[i + 1]
  if (rest[i] === '--stream') {
    opt.stream = true
    i--
  } else if (rest[i] === '--codec') opt.codec = v
  else if (rest[i] === '--row-group') opt.rowGroup = Number(v)
  else if (rest[i] === '--list-item') opt.listItem = v
  else if (rest[i] === '--as-int') opt.asInt = v
  else if (rest[i] === '--drop') opt.drop = v
  else throw new Error('unknown option ' + rest[i])
}
// zstd-codec (Emscripten-compiled zstd) starts asynchronously
const zstd = await new Promise(resolve => zstdCodec.ZstdCodec.run(z => resolve(new z.Simple())))
const compressors = { GZIP: b => new Uint8Array(gzipSync(b)), ZSTD: b => zstd.compress(b, 3) }
if (opt.stream) {
  const lines = createInterface({ input: createReadStream(input), crlfDelay: Infinity })
  const it = lines[Symbol.asyncIterator]()
  const first = JSON.parse((await it.next()).value)
  const names = Object.keys(first)
  async function* rows() {
    yield first
    for await (const line of it) if (line.trim()) yield JSON.parse(line)
  }
  await parquetWriteRows({
    writer: fileWriter(output),
    rows: rows(),
    columns: names.map(name => ({ name, type: 'STRING' })),
    codec: opt.codec,
    compressors,
    rowGroupSize: opt.rowGroup,
  })
  process.exit(0)
}
const rows = readFileSync(input, 'utf8').split('\n').filter(l => l.trim()).map(l => JSON.parse(l))
const names = [...new Set(rows.flatMap(r => Object.keys(r)))].filter(n => n !== opt.drop)

// A column of strings, or of message lists ([{role, content}]) as the Hub's datasets hold them:
// a three-level LIST of a struct of two UTF8 strings.
const schema = [{ name: 'root', num_children: names.length }]
const columnData = []
for (const name of names) {
  const values = rows.map(r => (r[name] === undefined ? null : r[name]))
  if (name === opt.asInt) {
    schema.push({ name, type: 'INT32', repetition_type: 'OPTIONAL' })
    columnData.push({ name, data: values.map((_, i) => i) })
  } else if (values.some(v => Array.isArray(v))) {
    schema.push(
      { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: opt.listItem, repetition_type: 'OPTIONAL', num_children: 2 },
      { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' })
    columnData.push({ name, data: values })
  } else {
    schema.push({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' })
    columnData.push({ name, data: values.map(v => (v === null ? null : String(v))) })
  }
}
parquetWriteFile({
  filename: output,
  columnData,
  schema,
  codec: opt.codec,
  compressors,
  rowGroupSize: opt.rowGroup,
})
