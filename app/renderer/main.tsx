/** The page's entry: translations, the bridge to the core, then the app. */
import { createRoot } from 'react-dom/client';
import { KioskError } from '../common/errors.js';
import { App } from './App.js';
import { getKioskApi } from './bridge.js';
import { initI18n } from './i18n/index.js';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new KioskError('internal', 'index.html has no #root element');

initI18n();
createRoot(container).render(<App kiosk={getKioskApi()} />);
