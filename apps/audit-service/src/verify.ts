import { runVerifyCli } from '@llmops/audit-service';

process.exitCode = await runVerifyCli(process.argv.slice(2));
