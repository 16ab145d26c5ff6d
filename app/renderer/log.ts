/**
 * The page's logger: the one browser logger shared with the guard console. Electron and the
 * browser host forward the console to their own logs; nothing personal is logged from the page.
 */
export { moduleLogger, type PageLogger as RendererLogger } from '../web/log.js';
