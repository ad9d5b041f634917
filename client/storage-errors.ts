/**
 * Errors of the storage node and its client. Each class carries the data a caller needs to decide
 * what to do next (retry elsewhere, re-upload, give up) and has one message a person can act on.
 */

/** Base class: `catch (e) { if (e instanceof StorageError) … }` covers every storage failure. */
export class StorageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

/** A string that should be a sha256 digest (64 lower-case hex characters) is not one. */
export class InvalidHashError extends StorageError {
    constructor(readonly value: string) {
        super(`not a sha256 hex digest: ${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)}`);
    }
}

/** A blob URI is not something a worker may download (only `http://` and `https://` are). */
export class InvalidBlobUriError extends StorageError {
    constructor(readonly uri: string) {
        super(`blob URI must be http:// or https://, got ${JSON.stringify(uri)}`);
    }
}

/** No answer from the server: connection refused, DNS failure, reset, or timeout. */
export class StorageUnreachableError extends StorageError {
    /**
     * @param origin scheme://host:port of the server
     * @param reason the system error code (`ECONNREFUSED`) or `timed out after N ms`
     */
    constructor(
        readonly origin: string,
        readonly reason: string,
    ) {
        super(`storage node at ${origin} is unreachable (${reason})`);
    }
}

/** What a hash names: a blob (by its sha256) or a job's result (by its output hash, client/results.ts). */
export type HashKind = 'blob' | 'result';

/** The server answered 404 for a blob or a result. */
export class BlobNotFoundError extends StorageError {
    constructor(
        readonly hash: string,
        readonly url: string,
        readonly kind: HashKind = 'blob',
    ) {
        super(`${kind} ${hash} not found at ${url}`);
    }
}

/**
 * The bytes received (client side) or uploaded (server side) do not hash to the expected digest:
 * a blob's sha256, or a result's output hash.
 */
export class BlobHashMismatchError extends StorageError {
    constructor(
        readonly hash: string,
        readonly url: string,
        readonly actual: string,
        readonly kind: HashKind = 'blob',
    ) {
        super(
            kind === 'blob'
                ? `blob ${hash} from ${url} does not match its hash (got ${actual})`
                : `result ${hash} from ${url} does not match its output hash (got ${actual})`,
        );
    }
}

/**
 * A blob is over a size limit: the node's (`direction: 'upload'`) or the downloader's
 * (`direction: 'download'`). `bytes` is undefined when the size was not announced up front.
 */
export class BlobTooLargeError extends StorageError {
    constructor(
        readonly direction: 'upload' | 'download',
        readonly bytes: number | undefined,
        readonly limit: number,
        readonly url: string,
    ) {
        const size = bytes === undefined ? `more than ${limit}` : String(bytes);
        super(
            direction === 'upload'
                ? `blob is ${size} bytes, over the node's limit of ${limit}`
                : `blob at ${url} is ${size} bytes, over the download limit of ${limit}`,
        );
    }
}

/** The node wants a write token (`--token`) and the request had none or a wrong one. */
export class StorageAuthError extends StorageError {
    constructor(
        readonly url: string,
        readonly hadToken: boolean,
    ) {
        super(
            hadToken
                ? `storage node refused the write to ${url}: wrong token`
                : `storage node refused the write to ${url}: it needs a token (StorageClient opts.token)`,
        );
    }
}

/** Any other non-success answer; `reason` is the server's JSON `error` text when it sent one. */
export class StorageHttpError extends StorageError {
    constructor(
        readonly url: string,
        readonly status: number,
        readonly reason: string,
    ) {
        super(`${url} answered ${status}: ${reason}`);
    }
}

/** A bad option for the storage node (a command-line flag or a `startStorageNode` option). */
export class StorageConfigError extends StorageError {}
