import { isMap, isSeq, parseDocument, type Node } from "yaml";

/**
 * The 1-based line of a field path (`stages[1].hyperparameters.lr`) in a YAML text, or of its
 * nearest existing parent; null when the text does not parse. The server names fields by path;
 * the editor shows the error at its line.
 */
export function lineOf(text: string, path: string | undefined): number | null {
  if (!path) return null;
  const doc = parseDocument(text);
  if (doc.errors.length) return doc.errors[0].linePos?.[0]?.line ?? null;
  const parts: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  let node: unknown = doc.contents;
  let found: Node | null = (doc.contents as Node) ?? null;
  let keyNode: Node | null = null;
  for (const p of parts) {
    if (isMap(node) && typeof p === "string") {
      const pair = node.items.find((it) => String((it.key as { value?: unknown })?.value ?? it.key) === p);
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
      found = (pair.value as Node) ?? keyNode;
    } else if (isSeq(node) && typeof p === "number") {
      const item = node.items[p] as Node | undefined;
      if (!item) break;
      keyNode = null;
      node = item;
      found = item;
    } else break;
  }
  const at = (keyNode ?? found)?.range?.[0];
  if (at == null) return null;
  return text.slice(0, at).split("\n").length;
}
