import { connect, Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON (throws if it is not). */
  json(): any;
}

/** Opens a plain TCP connection to the server at `baseUrl`, for requests no HTTP client would send. */
export function rawConnection(baseUrl: string): Socket {
  const { hostname, port } = new URL(baseUrl);
  return connect(Number(port), hostname);
}

/** Sends `text` as it is on a new connection and resolves with everything answered until the server closes it. */
export function rawHttp(baseUrl: string, text: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = rawConnection(baseUrl);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(text);
  });
}

/** The first response of a raw answer (status line, headers, a Content-Length body). */
export function parseRawResponse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? text.length - end - 4);
  const body = Buffer.from(text.slice(end + 4)).subarray(0, length).toString();
  return { status: Number(statusLine.split(' ')[1]), headers, body, json: () => JSON.parse(body) };
}
