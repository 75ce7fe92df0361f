// The hidden terminal prompt (input not echoed), drawn on stderr so stdout stays data only.
import type { HiddenPrompt } from './passphrase.js';

export const hiddenTtyPrompt: HiddenPrompt = async (message) => {
  const { default: password } = await import('@inquirer/password');
  return password({ message, mask: false }, { output: process.stderr });
};
