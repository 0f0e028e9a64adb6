/**
 * `stacklight/eslint-plugin`: an ESLint flat-config plugin with stacklight's
 * metric naming, label and log-field rules.
 *
 * @example
 * ```js
 * // eslint.config.js
 * import stacklight from 'stacklight/eslint-plugin';
 * export default [...stacklight.configs.recommended];
 * ```
 */
import { configs, plugin, rules } from './lint/index.js';

export { configs, plugin, rules };
export default plugin;
