/**
 * A strict XML reader for the SVG pictures the reports ship (no XML parser is in node_modules, and
 * the pictures are plain elements, attributes and text): it refuses anything that is not
 * well-formed (an unclosed or mismatched tag, an unquoted or duplicate attribute, a raw `<` or
 * `&` in text or attribute values, an unknown entity, text outside the root) and returns the tree.
 */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text, entities decoded. */
  text: string;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const NAME = "[A-Za-z_][A-Za-z0-9_.:-]*";

function decode(raw: string, where: string): string {
  if (raw.includes("<")) throw new Error(`raw '<' in ${where}`);
  return raw.replace(/&([^;\s]*);?/g, (whole: string, entity: string) => {
    if (!whole.endsWith(";")) throw new Error(`raw '&' in ${where}`);
    if (entity in ENTITIES) return ENTITIES[entity];
    const numeric = /^#(x[0-9a-fA-F]+|[0-9]+)$/.exec(entity);
    if (numeric) return String.fromCodePoint(numeric[1].startsWith("x") ? parseInt(numeric[1].slice(1), 16) : Number(numeric[1]));
    throw new Error(`unknown entity &${entity}; in ${where}`);
  });
}

/** Parses the document; throws, naming the problem, when it is not well-formed. */
export function parseXml(text: string): XmlElement {
  const tag = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"]*"|'[^']*'))*)\\s*(/?)>`, "y");
  const attribute = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "g");
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const source = text.replace(/^<\?xml[^?]*\?>/, "");
  while (i < source.length) {
    const next = source.indexOf("<", i);
    const raw = source.slice(i, next === -1 ? source.length : next);
    if (raw.trim() !== "") {
      if (stack.length === 0) throw new Error(`text outside the root element: ${JSON.stringify(raw.slice(0, 40))}`);
      stack[stack.length - 1].text += decode(raw, `the text of <${stack[stack.length - 1].name}>`);
    }
    if (next === -1) break;
    if (source.startsWith("<!--", next)) {
      const end = source.indexOf("-->", next);
      if (end === -1) throw new Error("unclosed comment");
      i = end + 3;
      continue;
    }
    tag.lastIndex = next;
    const match = tag.exec(source);
    if (!match) throw new Error(`malformed tag at ${next}: ${JSON.stringify(source.slice(next, next + 60))}`);
    const [whole, closing, name, attrs, selfClosing] = match;
    i = next + whole.length;
    if (closing) {
      const open = stack.pop();
      if (!open || open.name !== name || attrs.trim() !== "" || selfClosing)
        throw new Error(`</${name}> does not close <${open?.name ?? "nothing"}>`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const a of attrs.matchAll(attribute)) {
      if (a[1] in attributes) throw new Error(`duplicate attribute ${a[1]} on <${name}>`);
      attributes[a[1]] = decode(a[2] ?? a[3], `attribute ${a[1]} of <${name}>`);
    }
    const element: XmlElement = { name, attributes, children: [], text: "" };
    if (stack.length > 0) stack[stack.length - 1].children.push(element);
    else if (root) throw new Error("a second root element");
    else root = element;
    if (!selfClosing) stack.push(element);
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new Error("no root element");
  return root;
}

/** Every element of the tree, depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}
