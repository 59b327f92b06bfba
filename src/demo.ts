/** Placeholder until the engine lands: replaced by the real demo in the same change. */
export function runDemo(): string {
  return 'vmstate-lab demo\n';
}
