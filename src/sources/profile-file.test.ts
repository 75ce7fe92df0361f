import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigFile, parseCredentialsFile } from './profile-file.js';

describe('profile files', () => {
  test('config sections are [default], [profile NAME] and [sso-session NAME]; other sections are ignored', () => {
    const { config, ssoSessions } = parseConfigFile(
      '[default]\nregion = eu-west-1\n[profile dev]\nregion=us-east-2\n[sso-session corp]\nsso_region = eu-west-1\n[plugins]\nx = 1\n[dev2]\nregion = ap-south-1\n',
    );
    assert.deepEqual([...config.keys()].sort(), ['default', 'dev']);
    assert.equal(config.get('dev')?.region, 'us-east-2');
    assert.equal(ssoSessions.get('corp')?.sso_region, 'eu-west-1');
  });

  test('credentials sections are bare names, including "profile x" literally', () => {
    const creds = parseCredentialsFile('[dev]\naws_access_key_id = A\n[profile x]\naws_access_key_id = B\n');
    assert.equal(creds.get('dev')?.aws_access_key_id, 'A');
    assert.equal(creds.get('profile x')?.aws_access_key_id, 'B');
  });

  test('keys are case-insensitive; comments need whitespace before # or ; inline', () => {
    const { config } = parseConfigFile(
      '# top\n; also\n[profile a]\nRole_ARN = arn:aws:iam::1:role/r # the role\nexternal_id = a#b\n',
    );
    assert.equal(config.get('a')?.role_arn, 'arn:aws:iam::1:role/r');
    assert.equal(config.get('a')?.external_id, 'a#b');
  });

  test('a repeated section merges, later keys win; CRLF line ends are accepted', () => {
    const { config } = parseConfigFile(
      '[profile a]\r\nregion = x\r\n[profile a]\r\nregion = y\r\noutput = json\r\n',
    );
    assert.deepEqual(config.get('a'), { region: 'y', output: 'json' });
  });

  test('indented lines continue a nested block and do not become keys', () => {
    const { config } = parseConfigFile('[profile a]\ns3 =\n  max_concurrent_requests = 20\nregion = z\n');
    assert.equal(config.get('a')?.region, 'z');
    assert.equal(config.get('a')?.max_concurrent_requests, undefined);
  });
});
