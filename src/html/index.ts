/** The HTML page kit shared by `compat --html`, `explore` and `diff --html`. */
export { esc, jsonForScript } from './escape';
export { htmlPage, contentSecurityPolicy, type PageParts } from './page';
export { BASE_CSS } from './styles';
