/**
 * A test tool, not an exporter: an OTLP/HTTP trace receiver on loopback that the real SDK
 * exporters of child processes (and the bench) send to. It accepts both encodings the exporter
 * speaks: `application/x-protobuf`, decoded here by a minimal reader of the protobuf wire format
 * for ExportTraceServiceRequest (the field numbers of opentelemetry-proto's trace.proto, as
 * @opentelemetry/otlp-transformer's serializer lists them; the packages ship no .proto files to
 * load), and `application/json` (OTLP/JSON). Either way each span becomes a `SpanRecord`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SpanRecord } from './trace-tree.ts';

type Value = string | number | boolean | Value[] | null;

/** A protobuf wire-format reader: varints, fixed 32/64-bit and length-delimited fields. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  done() {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  fixed64(): bigint {
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getBigUint64(0, true);
  }
  double(): number {
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }
  bytes(): Uint8Array {
    const length = Number(this.varint());
    const slice = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }
  /** Each field as [number, wire type, reader of its value]. */
  *fields(): Generator<[number, number]> {
    while (!this.done()) {
      const tag = Number(this.varint());
      yield [tag >>> 3, tag & 7];
    }
  }
  skip(wire: number) {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`wire type ${wire} not expected`);
  }
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function anyValue(buf: Uint8Array): Value {
  const reader = new Reader(buf);
  let value: Value = null;
  for (const [field, wire] of reader.fields()) {
    if (field === 1 && wire === 2) value = text(reader.bytes());
    else if (field === 2 && wire === 0) value = reader.varint() !== 0n;
    else if (field === 3 && wire === 0) value = Number(BigInt.asIntN(64, reader.varint()));
    else if (field === 4 && wire === 1) value = reader.double();
    else if (field === 5 && wire === 2) {
      const array = new Reader(reader.bytes());
      const values: Value[] = [];
      for (const [f, w] of array.fields()) {
        if (f === 1 && w === 2) values.push(anyValue(array.bytes()));
        else array.skip(w);
      }
      value = values;
    } else reader.skip(wire);
  }
  return value;
}

function keyValues(into: Record<string, Value>, buf: Uint8Array): void {
  const reader = new Reader(buf);
  let key = '';
  let value: Value = null;
  for (const [field, wire] of reader.fields()) {
    if (field === 1 && wire === 2) key = text(reader.bytes());
    else if (field === 2 && wire === 2) value = anyValue(reader.bytes());
    else reader.skip(wire);
  }
  into[key] = value;
}

const nanosToMs = (nanos: bigint) => Number(nanos / 1000n) / 1000;

function decodeSpan(buf: Uint8Array, service: string, scope: string): SpanRecord {
  const reader = new Reader(buf);
  const span: SpanRecord = { traceId: '', spanId: '', parentSpanId: null, name: '', kind: 0, startMs: 0, endMs: 0, attributes: {}, events: [], links: [], status: 0, service, scope };
  for (const [field, wire] of reader.fields()) {
    if (field === 1 && wire === 2) span.traceId = hex(reader.bytes());
    else if (field === 2 && wire === 2) span.spanId = hex(reader.bytes());
    else if (field === 4 && wire === 2) span.parentSpanId = hex(reader.bytes()) || null;
    else if (field === 5 && wire === 2) span.name = text(reader.bytes());
    else if (field === 6 && wire === 0) span.kind = Number(reader.varint()) - 1;
    else if (field === 7 && wire === 1) span.startMs = nanosToMs(reader.fixed64());
    else if (field === 8 && wire === 1) span.endMs = nanosToMs(reader.fixed64());
    else if (field === 9 && wire === 2) keyValues(span.attributes, reader.bytes());
    else if (field === 11 && wire === 2) {
      const event = new Reader(reader.bytes());
      const record = { name: '', timeMs: 0, attributes: {} as Record<string, Value> };
      for (const [f, w] of event.fields()) {
        if (f === 1 && w === 1) record.timeMs = nanosToMs(event.fixed64());
        else if (f === 2 && w === 2) record.name = text(event.bytes());
        else if (f === 3 && w === 2) keyValues(record.attributes, event.bytes());
        else event.skip(w);
      }
      span.events.push(record);
    } else if (field === 13 && wire === 2) {
      const link = new Reader(reader.bytes());
      const record = { traceId: '', spanId: '', attributes: {} as Record<string, Value> };
      for (const [f, w] of link.fields()) {
        if (f === 1 && w === 2) record.traceId = hex(link.bytes());
        else if (f === 2 && w === 2) record.spanId = hex(link.bytes());
        else if (f === 4 && w === 2) keyValues(record.attributes, link.bytes());
        else link.skip(w);
      }
      span.links.push(record);
    } else if (field === 15 && wire === 2) {
      const status = new Reader(reader.bytes());
      for (const [f, w] of status.fields()) {
        if (f === 3 && w === 0) span.status = Number(status.varint());
        else status.skip(w);
      }
    } else reader.skip(wire);
  }
  return span;
}

/** ExportTraceServiceRequest (protobuf) to span records. */
export function decodeProtobufTraces(buf: Uint8Array): SpanRecord[] {
  const spans: SpanRecord[] = [];
  const request = new Reader(buf);
  for (const [field, wire] of request.fields()) {
    if (field !== 1 || wire !== 2) {
      request.skip(wire);
      continue;
    }
    const resourceSpans = new Reader(request.bytes());
    const resource: Record<string, Value> = {};
    const scopes: Uint8Array[] = [];
    for (const [f, w] of resourceSpans.fields()) {
      if (f === 1 && w === 2) {
        const reader = new Reader(resourceSpans.bytes());
        for (const [rf, rw] of reader.fields()) {
          if (rf === 1 && rw === 2) keyValues(resource, reader.bytes());
          else reader.skip(rw);
        }
      } else if (f === 2 && w === 2) scopes.push(resourceSpans.bytes());
      else resourceSpans.skip(w);
    }
    for (const scopeBuf of scopes) {
      const scopeSpans = new Reader(scopeBuf);
      let scope = '';
      const raw: Uint8Array[] = [];
      for (const [f, w] of scopeSpans.fields()) {
        if (f === 1 && w === 2) {
          const reader = new Reader(scopeSpans.bytes());
          for (const [sf, sw] of reader.fields()) {
            if (sf === 1 && sw === 2) scope = text(reader.bytes());
            else reader.skip(sw);
          }
        } else if (f === 2 && w === 2) raw.push(scopeSpans.bytes());
        else scopeSpans.skip(w);
      }
      spans.push(...raw.map((span) => decodeSpan(span, String(resource['service.name'] ?? ''), scope)));
    }
  }
  return spans;
}

interface JsonValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonValue[] };
}
type JsonKeyValue = { key: string; value: JsonValue };

const jsonValue = (value: JsonValue): Value =>
  value.stringValue ?? value.boolValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? (value.arrayValue ? (value.arrayValue.values ?? []).map(jsonValue) : null);
const jsonAttributes = (list: JsonKeyValue[] | undefined) => Object.fromEntries((list ?? []).map(({ key, value }) => [key, jsonValue(value)]));
/** OTLP/JSON ids are hex; base64 (protobuf's JSON mapping) is accepted too. */
const jsonId = (id: string | undefined, bytes: number) => (!id ? '' : id.length === bytes * 2 && /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex'));
const jsonMs = (nanos: string | number | undefined) => Number(BigInt(nanos ?? 0) / 1000n) / 1000;

/** ExportTraceServiceRequest (OTLP/JSON) to span records. */
export function decodeJsonTraces(body: string): SpanRecord[] {
  type JsonSpan = {
    traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; startTimeUnixNano?: string; endTimeUnixNano?: string;
    attributes?: JsonKeyValue[]; events?: { name: string; timeUnixNano?: string; attributes?: JsonKeyValue[] }[];
    links?: { traceId: string; spanId: string; attributes?: JsonKeyValue[] }[]; status?: { code?: number };
  };
  const request = JSON.parse(body) as { resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[] }[] };
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(jsonAttributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span) => ({
        traceId: jsonId(span.traceId, 16),
        spanId: jsonId(span.spanId, 8),
        parentSpanId: jsonId(span.parentSpanId, 8) || null,
        name: span.name,
        kind: (span.kind ?? 1) - 1,
        startMs: jsonMs(span.startTimeUnixNano),
        endMs: jsonMs(span.endTimeUnixNano),
        attributes: jsonAttributes(span.attributes),
        events: (span.events ?? []).map((event) => ({ name: event.name, timeMs: jsonMs(event.timeUnixNano), attributes: jsonAttributes(event.attributes) })),
        links: (span.links ?? []).map((link) => ({ traceId: jsonId(link.traceId, 16), spanId: jsonId(link.spanId, 8), attributes: jsonAttributes(link.attributes) })),
        status: span.status?.code ?? 0,
        service,
        scope: scopeSpans.scope?.name ?? '',
      })),
    );
  });
}

export interface OtlpReceiver {
  /** OTEL_EXPORTER_OTLP_ENDPOINT for the processes that send here. */
  endpoint: string;
  spans: SpanRecord[];
  /** Requests received, by content type (spans -1: not decoded). */
  requests: { contentType: string; spans: number }[];
  close(): Promise<void>;
}

/**
 * Starts the receiver on a free loopback port. `decode: false` (the bench) only counts what
 * arrives: decoding would cost the process that also drives the load.
 */
export async function startOtlpReceiver(options: { decode?: boolean } = {}): Promise<OtlpReceiver> {
  const decode = options.decode ?? true;
  const spans: SpanRecord[] = [];
  const requests: OtlpReceiver['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const contentType = String(req.headers['content-type'] ?? '');
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      if (!decode) {
        requests.push({ contentType, spans: -1 });
        res.writeHead(200, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' }).end(contentType.includes('json') ? '{}' : undefined);
        return;
      }
      try {
        const decoded = contentType.includes('json') ? decodeJsonTraces(body.toString('utf8')) : decodeProtobufTraces(new Uint8Array(body));
        spans.push(...decoded);
        requests.push({ contentType, spans: decoded.length });
        // An empty ExportTraceServiceResponse: `{}` in JSON, no bytes in protobuf.
        if (contentType.includes('json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
