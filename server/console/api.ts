/**
 * The console's HTTP calls to the intercom server. Paths are relative to the page, so the console
 * works behind a reverse proxy under any sub-path; the session is the server's HttpOnly cookie,
 * which the page never sees. Every answer is checked, and every failure becomes an ApiError whose
 * code the page translates.
 */
import { z } from 'zod';
import { errorCodes, KioskError, type ErrorCode } from '../../app/common/errors.js';
import { callEndReasons } from '../../app/contract/intercom-protocol.js';

/** A refused or failed request; `serverCode` may be one only the server knows (not_configured). */
export class ApiError extends KioskError {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly serverCode: string;
  /** Seconds to wait before trying again, when the server said (throttled logins). */
  readonly retryAfterSeconds: number | null;

  constructor(
    status: number,
    serverCode: string,
    message: string,
    retryAfterSeconds: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(knownCode(serverCode), message, options);
    this.name = 'ApiError';
    this.status = status;
    this.serverCode = serverCode;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function knownCode(code: string): ErrorCode {
  return (errorCodes as readonly string[]).includes(code) ? (code as ErrorCode) : 'internal';
}

const GuardSchema = z.object({
  id: z.number(),
  name: z.string(),
  role: z.enum(['admin', 'guard']),
});
/** The logged-in guard. */
export type GuardInfo = z.infer<typeof GuardSchema>;

/** How a call ended, as the history lists it. */
export const callOutcomes = ['opened', 'denied', 'missed', 'cancelled', 'ended', 'live'] as const;
export type CallOutcome = (typeof callOutcomes)[number];

const CallEntrySchema = z.object({
  callId: z.string(),
  kioskId: z.string(),
  kioskName: z.string(),
  ringStartedAt: z.number(),
  answeredAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  guard: z.string().nullable(),
  outcome: z.enum(callOutcomes),
  endReason: z.enum(callEndReasons).nullable(),
});
/** One row of the call history. */
export type CallEntry = z.infer<typeof CallEntrySchema>;

const KioskEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  online: z.boolean(),
  connectedAt: z.number().nullable(),
  lastSeenAt: z.number().nullable(),
  version: z.string().nullable(),
  revoked: z.boolean(),
});
/** One kiosk as the kiosks page lists it. */
export type KioskEntry = z.infer<typeof KioskEntrySchema>;

const IssuedPassSchema = z.object({
  passId: z.string(),
  token: z.string().min(1),
  expiresAt: z.number(),
});
/** A pass the server signed; the token is the QR code's text. */
export type IssuedPass = z.infer<typeof IssuedPassSchema>;

/** What a guard fills in to issue a pass. */
export interface PassRequest {
  visitorName: string;
  hostUnit: string;
  validHours: number;
  entries: number;
}

const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** The server's API as the console uses it. */
export interface ConsoleApi {
  me(): Promise<GuardInfo>;
  login(name: string, password: string): Promise<GuardInfo>;
  logout(): Promise<void>;
  calls(limit: number): Promise<CallEntry[]>;
  kiosks(): Promise<KioskEntry[]>;
  issuePass(request: PassRequest): Promise<IssuedPass>;
}

/** How an API object reaches the server; `onUnauthorised` hears of every 401 (session ended). */
export interface ApiOptions {
  fetch?: typeof fetch;
  onUnauthorised?: () => void;
}

/** One request: the answer's JSON (undefined for 204), or an ApiError. */
export type Send = (path: string, init?: RequestInit) => Promise<unknown>;

/** The request function every API object of the console is built on. */
export function createSend(options: ApiOptions = {}): Send {
  return (path, init) => request(options.fetch ?? fetch, path, init, options.onUnauthorised);
}

/** A POST carrying `body` as JSON, or no body at all. */
export function post(body?: unknown): RequestInit {
  return {
    method: 'POST',
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  };
}

/** Builds the API on `fetch`. */
export function createApi(options: ApiOptions = {}): ConsoleApi {
  const send = createSend(options);

  return {
    me: async () => parse(z.object({ guard: GuardSchema }), await send('api/me')).guard,
    login: async (name, password) =>
      parse(z.object({ guard: GuardSchema }), await send('api/login', post({ name, password })))
        .guard,
    logout: async () => {
      await send('api/logout', post());
    },
    calls: async (limit) =>
      parse(z.object({ calls: z.array(CallEntrySchema) }), await send(`api/calls?limit=${limit}`))
        .calls,
    kiosks: async () =>
      parse(z.object({ kiosks: z.array(KioskEntrySchema) }), await send('api/kiosks')).kiosks,
    issuePass: async (pass) => parse(IssuedPassSchema, await send('api/passes', post(pass))),
  };
}

async function request(
  fetchFn: typeof fetch,
  path: string,
  init: RequestInit | undefined,
  onUnauthorised: (() => void) | undefined,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(path, { credentials: 'same-origin', ...init });
  } catch (error) {
    throw new ApiError(0, 'disconnected', 'the server cannot be reached', null, { cause: error });
  }

  if (response.status === 401) onUnauthorised?.();
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined;

  try {
    return (await response.json()) as unknown;
  } catch (error) {
    throw new ApiError(response.status, 'bad_payload', 'the answer is not JSON', null, {
      cause: error,
    });
  }
}

async function errorFrom(response: Response): Promise<ApiError> {
  const retryAfter = Number(response.headers.get('Retry-After'));
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null;

  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML error page: the status is all there is.
  }

  const parsed = ErrorBodySchema.safeParse(body);
  const code = parsed.success ? parsed.data.error.code : codeForStatus(response.status);
  const message = parsed.success ? parsed.data.error.message : `HTTP ${response.status}`;
  return new ApiError(response.status, code, message, retryAfterSeconds);
}

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorised';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'throttled';
  if (status === 502 || status === 503 || status === 504) return 'disconnected';
  return 'internal';
}

/** The answer checked against `schema`; another shape is a `bad_payload` ApiError. */
export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;

  throw new ApiError(200, 'bad_payload', 'the server answered in an unexpected shape');
}
