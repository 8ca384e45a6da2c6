// A whole input that cannot be ingested (missing folder, no images, unreadable archive). Bad
// individual files never throw: they become RejectRows. The name matches the project's other
// user-fixable errors so the CLI and activities treat it the same way.
export class BadInputError extends Error {
  override name = 'BadInput';
}
