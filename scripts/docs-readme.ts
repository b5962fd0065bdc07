import { readFileSync, writeFileSync } from 'node:fs';
import { freshReadme } from './readme-sections.js';

/** Regenerates the README's generated sections (configuration, scopes, operation limits). */
const readme = readFileSync('README.md', 'utf8');
const next = await freshReadme(readme);
if (next === readme) console.log('README.md generated sections are up to date.');
else {
  writeFileSync('README.md', next);
  console.log('Updated the generated sections of README.md.');
}
