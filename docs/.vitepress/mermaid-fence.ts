/**
 * ```mermaid blocks become <Mermaid> components (theme/Mermaid.vue), which
 * draw the diagram in the browser.
 */
import type { MarkdownRenderer } from 'vitepress';

export function mermaidFences(md: MarkdownRenderer): void {
  const fence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!;
    if (token.info.trim() !== 'mermaid') return fence(tokens, idx, options, env, self);
    // encodeURIComponent leaves no quote or brace that Vue's template compiler would read.
    return `<Mermaid id="mermaid-${idx}" graph="${encodeURIComponent(token.content)}" />\n`;
  };
}
