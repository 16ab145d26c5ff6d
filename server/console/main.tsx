/** The console's entry: translations, the ringer, then the app. */
import { createRoot } from 'react-dom/client';
import { KioskError } from '../../app/common/errors.js';
import { App } from './App.js';
import { Ringer } from './calls/ringer.js';
import { initI18n } from './i18n/index.js';
import './styles.css';

const container = document.getElementById('root');
if (!container) throw new KioskError('internal', 'index.html has no #root element');

initI18n();
createRoot(container).render(<App ringer={new Ringer()} />);
