#!/usr/bin/env node
import { processIo, runLlmopsConfig } from './llmops-config-command.js';

process.exitCode = await runLlmopsConfig(process.argv.slice(2), processIo());
