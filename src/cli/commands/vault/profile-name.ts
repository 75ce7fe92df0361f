// Profile names as ~/.aws/config accepts them: no whitespace, no brackets, printable, bounded.
import { usageError } from '../../../errors.js';

const PROFILE = /^[A-Za-z0-9_.@+=,:/-]{1,128}$/;

export function checkProfileName(profile: string): string {
  if (!PROFILE.test(profile)) {
    throw usageError(
      `invalid profile name ${JSON.stringify(profile)}: use 1-128 letters, digits and _ . @ + = , : / - (as in ~/.aws/config).`,
    );
  }
  return profile;
}
