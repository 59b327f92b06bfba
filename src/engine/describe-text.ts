import type { AnyField } from '../dsl/field';
import type { AnyVMSDesc } from '../dsl/vmsd';

/** A compact one-description outline, for counterexamples and `--format tree` style printing. */
export function outline(d: AnyVMSDesc, indent = ''): string {
  const lines = [
    `${indent}${d.name} v${d.version_id} (min ${d.minimum_version_id})${d.needed ? ' [needed()]' : ''}`,
  ];
  for (const f of d.fields) lines.push(`${indent}  ${fieldText(f)}`);
  for (const s of d.subsections as readonly AnyVMSDesc[]) lines.push(outline(s, `${indent}  `));
  return lines.join('\n');

  function fieldText(f: AnyField): string {
    const gate = f.exists ? ' [test]' : f.version ? ` [v${f.version}]` : '';
    const count =
      f.count.from === 'fixed'
        ? `[${f.count.n}]`
        : f.count.from === 'field'
          ? `[${f.count.field} <= ${f.count.max}]`
          : '';
    const nested = (f.kind as { desc?: AnyVMSDesc }).desc;
    const head = `${f.shape === 'unused' ? 'unused' : f.key}: ${f.kind.type}${count}${gate}`;
    return nested ? `${head}\n${outline(nested, `${indent}    `)}` : head;
  }
}
