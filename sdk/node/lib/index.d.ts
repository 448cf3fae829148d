/** A user context: the end user behind the LLM calls made inside a scope. */
export interface UserContext {
  /** Required: 1 to 128 bytes of UTF-8. */
  userId: string;
  /** Optional: up to 254 bytes of UTF-8. */
  email?: string | null;
  /** Optional: up to 16 flat attributes, with keys matching [A-Za-z_][A-Za-z0-9_.-]*. */
  attrs?: Record<string, string | number | boolean> | null;
}

/** Runs fn with ctx as the end user of every LLM call it starts, across awaits and callbacks. */
export function withUserContext<T>(ctx: UserContext, fn: () => T): T;

/** Sets the process-level end user for calls made outside any scope; null clears it. */
export function setUserContext(ctx: UserContext | null): void;

/** Returns the context of the innermost withUserContext() around the caller. */
export function getUserContext(): Readonly<UserContext> | undefined;

/** Reads back what the agent would find in this process's registry. */
export const diagnostics: {
  threadRecord(): { userId: string; email: string } | null;
  processRecord(): { userId: string; email: string } | null;
};
