// Validation of a user context object and its conversion to the C SDK's arguments.
//
// Types and structure are checked here and throw TypeError. The C SDK checks byte limits,
// key syntax and the record size, and its errors are rethrown with the field named as in
// JavaScript: a TypeError for an invalid key, a RangeError for a limit.
'use strict';

const FIELDS = new Set(['userId', 'email', 'attrs']);
const RANGE_CODES = new Set([
  'JAMJET_ERR_VALUE_TOO_LONG',
  'JAMJET_ERR_TOO_MANY_ATTRS',
  'JAMJET_ERR_RECORD_TOO_LARGE',
  'JAMJET_ERR_INVALID_NUMBER',
]);

function describeType(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${Object.getPrototypeOf(value)?.constructor?.name ?? 'no prototype'})`;
  return typeof value;
}

function isPlainObject(value) {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function invalid(functionName, message, code = 'JAMJET_ERR_INVALID_ARGUMENT') {
  const error = new TypeError(`${functionName}: ${message}`);
  error.code = code;
  return error;
}

function checkString(functionName, field, value) {
  if (typeof value !== 'string') {
    throw invalid(functionName, `${field} must be a string, got ${describeType(value)}`);
  }
  // String.prototype.isWellFormed is in Node 20 and later. A lone surrogate has no UTF-8
  // form, and converting it would silently turn it into U+FFFD.
  if (!value.isWellFormed()) {
    throw invalid(functionName, `${field} contains a lone UTF-16 surrogate, so it has no UTF-8 form`, 'JAMJET_ERR_INVALID_UTF8');
  }
}

// Returns the C SDK's error text with C field names replaced by JavaScript ones:
// "user_id" by "ctx.userId", "attrs[2].value.string" by 'ctx.attrs["plan"]'.
function javascriptFieldNames(message, keys) {
  return message
    .replace(/^user_id\b/, 'ctx.userId')
    .replace(/^email\b/, 'ctx.email')
    .replace(/^attr_count is (\d+)/, 'ctx.attrs has $1 keys')
    .replace(/^attrs\[(\d+)\]\.value\.(?:string|number)/, (_, index) => `ctx.attrs[${JSON.stringify(keys[Number(index)])}]`)
    .replace(/^attrs\[(\d+)\]\.key/, 'ctx.attrs key');
}

function rethrowNativeError(functionName, error, keys) {
  if (typeof error?.code !== 'string' || !error.code.startsWith('JAMJET_ERR_')) throw error;
  const message = `${functionName}: ${javascriptFieldNames(error.message, keys)}`;
  const wrapped = RANGE_CODES.has(error.code) ? new RangeError(message) : new TypeError(message);
  wrapped.code = error.code;
  throw wrapped;
}

/**
 * Checks ctx and returns { context, nativeArguments }: a frozen copy of ctx and the
 * (userId, email, keys, values) arguments of the addon's encode and setProcessContext.
 */
function validateContext(ctx, functionName) {
  if (!isPlainObject(ctx)) {
    throw invalid(functionName, `ctx must be an object like { userId, email, attrs }, got ${describeType(ctx)}`);
  }
  for (const field of Object.keys(ctx)) {
    if (!FIELDS.has(field)) {
      throw invalid(functionName, `ctx.${field} is not a context field: use userId, email and attrs`);
    }
  }
  const { userId, email, attrs } = ctx;
  if (userId === undefined || userId === null) {
    throw invalid(functionName, 'ctx.userId is missing: every context needs a user id', 'JAMJET_ERR_MISSING_USER_ID');
  }
  checkString(functionName, 'ctx.userId', userId);
  if (userId === '') {
    throw invalid(functionName, 'ctx.userId is empty: every context needs a user id', 'JAMJET_ERR_MISSING_USER_ID');
  }
  if (email !== undefined && email !== null) checkString(functionName, 'ctx.email', email);

  const keys = [];
  const values = [];
  if (attrs !== undefined && attrs !== null) {
    if (!isPlainObject(attrs)) {
      throw invalid(functionName, `ctx.attrs must be a flat object of strings, numbers and booleans, got ${describeType(attrs)}`);
    }
    for (const [key, value] of Object.entries(attrs)) {
      const field = `ctx.attrs[${JSON.stringify(key)}]`;
      checkString(functionName, `${field} key`, key);
      if (typeof value === 'string') {
        checkString(functionName, field, value);
      } else if (typeof value === 'number') {
        if (!Number.isFinite(value)) {
          const error = new RangeError(`${functionName}: ${field} is ${value}: numbers must be finite`);
          error.code = 'JAMJET_ERR_INVALID_NUMBER';
          throw error;
        }
      } else if (typeof value !== 'boolean') {
        const nested = typeof value === 'object' && value !== null ? ' (attrs must be flat: no nested objects or arrays)' : '';
        throw invalid(functionName, `${field} must be a string, number or boolean, got ${describeType(value)}${nested}`, 'JAMJET_ERR_INVALID_ATTR_TYPE');
      }
      keys.push(key);
      values.push(value);
    }
  }

  const context = { userId };
  if (email !== undefined && email !== null) context.email = email;
  if (keys.length > 0) context.attrs = Object.freeze(Object.fromEntries(keys.map((key, index) => [key, values[index]])));
  return { context: Object.freeze(context), nativeArguments: [userId, email ?? null, keys, values] };
}

/**
 * Validates ctx and encodes it once. Returns the AsyncLocalStorage store of a scope:
 * { context, record }, where record is the ArrayBuffer that the thread slot points at.
 */
function createContext(native, ctx, functionName) {
  const { context, nativeArguments } = validateContext(ctx, functionName);
  const record = new ArrayBuffer(native.recordBytes);
  try {
    native.encode(record, ...nativeArguments);
  } catch (error) {
    rethrowNativeError(functionName, error, nativeArguments[2]);
  }
  return { context, record };
}

/** Validates ctx and makes it the process record. */
function setProcessContext(native, ctx, functionName) {
  const { nativeArguments } = validateContext(ctx, functionName);
  try {
    native.setProcessContext(...nativeArguments);
  } catch (error) {
    rethrowNativeError(functionName, error, nativeArguments[2]);
  }
}

module.exports = { createContext, setProcessContext, validateContext };
