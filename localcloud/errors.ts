/**
 * Google API errors as the local cloud answers them: the JSON error body of Google's REST APIs
 * (`{"error":{"code":<http>,"message":...,"status":"FAILED_PRECONDITION"}}`), with the HTTP status
 * Google maps each canonical code to (FAILED_PRECONDITION is a 400, ABORTED a 409).
 */
export type GoogleStatus =
  | "INVALID_ARGUMENT"
  | "FAILED_PRECONDITION"
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "UNAUTHENTICATED"
  | "ABORTED"
  | "INTERNAL"
  | "UNAVAILABLE";

const HTTP_STATUS: Readonly<Record<GoogleStatus, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  ABORTED: 409,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** The canonical gRPC code numbers, as long-running operations report them in `error.code`. */
export const GRPC_CODE: Readonly<Record<GoogleStatus, number>> = {
  INVALID_ARGUMENT: 3,
  FAILED_PRECONDITION: 9,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  UNAUTHENTICATED: 16,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
};

/** An error the API answers with; anything else thrown by a handler is an INTERNAL error. */
export class ApiError extends Error {
  constructor(
    readonly status: GoogleStatus,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.status];
  }

  body(): { error: { code: number; message: string; status: GoogleStatus } } {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }
}

export const notFound = (what: string): ApiError => new ApiError("NOT_FOUND", `${what} not found or has been deleted.`);
export const invalid = (message: string): ApiError => new ApiError("INVALID_ARGUMENT", message);
