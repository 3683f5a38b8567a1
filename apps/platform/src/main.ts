import { runApp } from '@llmops/platform-service-host';
import { platformApp } from './platform-services.js';

await runApp(platformApp);
