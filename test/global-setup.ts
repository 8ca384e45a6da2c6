// Placeholder until services land: starts nothing.
export default async function setup() {}
