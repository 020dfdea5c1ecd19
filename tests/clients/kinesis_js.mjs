// Runs Kinesis operations with the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis) against a
// loopback endpoint, for the tests that check kinsim's server (and the emulators) with a client nobody
// here wrote.
//
//   node kinesis_js.mjs ENDPOINT_URL [--http2] [--stop-unanswered] < operations.json
//
// stdin: a JSON list of operations run in order, each {"op": "PutRecords", "params": {...}} with the
// API's own PascalCase shapes (the SDK's command input). In params:
//   {"$b64": "..."}          a blob, base64 (becomes a Uint8Array)
//   {"$date": 1533074160.5}  a timestamp, epoch seconds (becomes a Date)
//   {"$ref": [2, "Shards", 0, "ShardId"]}  a value from an earlier operation's response: its index in
//                            the list, then the path of keys and indexes into that response
// An op named "waitUntilStreamExists" (or any waiter the package exports) runs that waiter with params
// as its input, polling from 0.2 s apart up to 2 s apart for 20 s at most; "waiter": {"maxWaitTime": ...,
// "minDelay": ..., "maxDelay": ...} (seconds) changes that.
//
// stdout: one JSON line per operation, in order:
//   {"ok": response}  the response without $metadata; blobs as {"$b64": ...}, Dates as epoch seconds
//   {"error": {"name": ..., "status": HTTP status or null, "message": ...}}
// A waiter's response is {"state": "SUCCESS"}. An operation whose $ref cannot be resolved (the earlier
// one failed) is an error named "UnresolvedReference" with status null, and nothing is sent.
// With --stop-unanswered, once an operation gets no HTTP answer at all (an error with status null: the
// connection was refused or broke, or the server does not speak the protocol), the operations after it
// are not sent: each is an error named "NotSent" with status null. Without it, every operation is tried
// (a waiter then retries such errors until its maxWaitTime).
//
// The package is loaded from the folder npm installed it into: $KINSIM_AWS_SDK_JS, else .cache/aws-sdk-js
// at the top of the repository. The client: region us-east-1, credentials "kinsim-test", one attempt,
// short timeouts. It speaks HTTP/1.1 (NodeHttpHandler), as clients of a local endpoint are configured;
// --http2 keeps the SDK's own default handler for Kinesis, which is HTTP/2 (on http:// with prior
// knowledge, h2c). Only loopback endpoints are accepted.

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const here = path.dirname(fileURLToPath(import.meta.url));
const sdkFolder = process.env.KINSIM_AWS_SDK_JS || path.resolve(here, "..", "..", ".cache", "aws-sdk-js");
const require = createRequire(path.join(path.resolve(sdkFolder), "package.json"));

function usage(message) {
  process.stderr.write(`kinesis_js.mjs: ${message}\n`);
  process.exit(2);
}

class UnresolvedReference extends Error {
  constructor(message) {
    super(message);
    this.name = "UnresolvedReference";
  }
}

function decode(value, results) {
  if (Array.isArray(value)) return value.map((item) => decode(item, results));
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "$b64") return Uint8Array.from(Buffer.from(value.$b64, "base64"));
  if (keys.length === 1 && keys[0] === "$date") return new Date(value.$date * 1000);
  if (keys.length === 1 && keys[0] === "$ref") {
    const [index, ...steps] = value.$ref;
    const earlier = results[index];
    if (earlier === undefined || !("ok" in earlier)) {
      throw new UnresolvedReference(`$ref ${JSON.stringify(value.$ref)}: operation ${index} has no response`);
    }
    let found = earlier.ok;
    for (const step of steps) {
      if (found === null || found === undefined || !(step in Object(found))) {
        throw new UnresolvedReference(`$ref ${JSON.stringify(value.$ref)}: no ${JSON.stringify(step)}`);
      }
      found = found[step];
    }
    return found;
  }
  return Object.fromEntries(keys.map((key) => [key, decode(value[key], results)]));
}

function encode(value) {
  if (value instanceof Uint8Array) return { $b64: Buffer.from(value).toString("base64") };
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(encode);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).filter(([key, item]) => key !== "$metadata" && item !== undefined)
      .map(([key, item]) => [key, encode(item)]));
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function main() {
  const args = process.argv.slice(2);
  const flags = ["--http2", "--stop-unanswered"];
  const http2 = args.includes("--http2");
  const stopUnanswered = args.includes("--stop-unanswered");
  const positional = args.filter((arg) => !flags.includes(arg));
  if (positional.length !== 1) {
    usage("usage: node kinesis_js.mjs ENDPOINT_URL [--http2] [--stop-unanswered] < operations.json");
  }
  const endpoint = positional[0];
  let url;
  try {
    url = new URL(endpoint);
  } catch {
    usage(`not a URL: ${endpoint}`);
  }
  if (!LOOPBACK.has(url.hostname)) usage(`only loopback endpoints are allowed, not ${url.hostname}`);
  let operations;
  try {
    operations = JSON.parse(await readStdin());
  } catch (err) {
    usage(`stdin is not JSON: ${err.message}`);
  }
  if (!Array.isArray(operations)) usage("stdin must be a JSON list of operations");

  const kinesis = require("@aws-sdk/client-kinesis");
  const config = {
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "kinsim-test", secretAccessKey: "kinsim-test" },
    maxAttempts: 1,
  };
  if (http2) {
    config.requestHandler = { requestTimeout: 10000, sessionTimeout: 10000 };
  } else {
    const { NodeHttpHandler } = require("@smithy/node-http-handler");
    config.requestHandler = new NodeHttpHandler({ requestTimeout: 10000, connectionTimeout: 2000 });
  }
  const client = new kinesis.KinesisClient(config);

  const results = [];
  let unanswered = null; // with --stop-unanswered: the first operation that got no HTTP answer
  try {
    for (const [index, operation] of operations.entries()) {
      const { op, params = {}, waiter = {} } = operation;
      let outcome;
      if (unanswered !== null) {
        const message = `not sent: operation ${unanswered.index} got no answer (${unanswered.message})`;
        outcome = { error: { name: "NotSent", status: null, message } };
        results.push(outcome);
        process.stdout.write(`${JSON.stringify(outcome)}\n`);
        continue;
      }
      try {
        const input = decode(params, results);
        if (op.startsWith("waitUntil") && typeof kinesis[op] === "function") {
          const done = await kinesis[op]({ client, maxWaitTime: 20, minDelay: 0.2, maxDelay: 2, ...waiter }, input);
          outcome = { ok: { state: done.state } };
        } else {
          const Command = kinesis[`${op}Command`];
          if (typeof Command !== "function") usage(`operation ${index}: no such operation: ${op}`);
          outcome = { ok: await client.send(new Command(input)) };
        }
      } catch (err) {
        outcome = {
          error: {
            name: err.name,
            status: err.$metadata?.httpStatusCode ?? null,
            message: err.message,
          },
        };
      }
      if (stopUnanswered && "error" in outcome && outcome.error.status === null &&
          outcome.error.name !== "UnresolvedReference") {
        unanswered = { index, message: outcome.error.message };
      }
      results.push(outcome);
      const line = "ok" in outcome ? { ok: encode(outcome.ok) } : outcome;
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  } finally {
    client.destroy();
  }
}

await main();
