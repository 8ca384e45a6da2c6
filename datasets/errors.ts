// A whole input that cannot be ingested (missing folder, no images, unreadable archive). Bad
// individual files never throw: they become RejectRows.
import { UserError } from '../errors.ts';

export class BadInputError extends UserError {}
