// The endpoint-container scenario (issue 20), run the same way on every engine setup: containers get
// the role with awscli v1, awscli v2, boto3 and the JS SDK v3; compose gives two services two roles; a
// stolen relative URI is refused from another container; the channel refuses a caller without the
// secret; docker inspect shows no key, token or channel secret; a killed endpoint container comes back
// by itself within 10 s; a SIGKILLed server is started again by the next keyless run and the same
// endpoint container reconnects; serve --stop removes the endpoint container.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFile, writeFile, chown } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunResult } from './cli.js';
import { awscliV1Arn, containerClientCommands } from './aws-clients.js';

export interface ScenarioSetup {
  name: string;
  uid: number;
  gid: number;
  /** env for keyless and docker as the setup's user (DOCKER_HOST, KEYLESS_HOST_ADDRESS, ...) */
  env: Record<string, string>;
  run(
    cmd: string,
    args: string[],
    options: { env: Record<string, string>; input?: string; timeoutMs?: number },
  ): Promise<RunResult>;
  docker(args: string[], options?: { timeoutMs?: number }): Promise<RunResult>;
  keylessBin: string;
  /** the project folder lent to containers for the JS SDK (holds node_modules) */
  projectDir: string;
  hostMounts: string[];
  /** python prefix inside the mounts (boto3, awscli v1) */
  py: string;
  image: string;
  /** make the keyless network beforehand (--internal where the channel allows it) */
  internalNetwork: boolean;
  /** expected channel kind */
  channel: 'unix' | 'tcp';
}

export interface ScenarioEnv {
  /** keyless's environment (HOME, KEYLESS_HOME, AWS config, passphrase, AWS_ENDPOINT_URL) */
  vars: Record<string, string>;
  keylessHome: string;
  home: string;
  /** moto as this engine's containers reach it */
  containerMotoUrl: string;
  /** secrets that must never show in docker inspect */
  secrets: string[];
}

/** The four real clients, as commands inside a container lent the host's programs (hostMounts). */
export function clientCommands(s: Pick<ScenarioSetup, 'py'>, motoUrl: string): [string, string[]][] {
  return containerClientCommands(s.py, motoUrl);
}

export class Scenario {
  constructor(
    readonly s: ScenarioSetup,
    readonly e: ScenarioEnv,
  ) {}

  keyless(args: string[], timeoutMs = 180_000): Promise<RunResult> {
    return this.s.run(process.execPath, [this.s.keylessBin, ...args], {
      env: { ...this.e.vars, ...this.s.env },
      timeoutMs,
    });
  }

  containerEnv(): string[] {
    return ['-e', 'AWS_EC2_METADATA_DISABLED=true', '-e', `AWS_ENDPOINT_URL=${this.e.containerMotoUrl}`];
  }

  async prepareNetwork(): Promise<void> {
    await this.s.docker(['rm', '-f', 'keyless-endpoint']);
    await this.s.docker(['network', 'rm', 'keyless']);
    if (!this.s.internalNetwork) return;
    const r = await this.s.docker([
      'network',
      'create',
      '--internal',
      '--driver',
      'bridge',
      '--subnet',
      '169.254.170.0/24',
      '--gateway',
      '169.254.170.1',
      'keyless',
    ]);
    assert.equal(r.code, 0, r.stderr);
  }

  async cleanup(): Promise<void> {
    await this.keyless(['serve', '--stop'], 60_000).catch(() => undefined);
    await this.s.docker(['rm', '-f', 'keyless-endpoint']).catch(() => undefined);
    await this.s.docker(['network', 'rm', 'keyless']).catch(() => undefined);
  }

  /** keyless run --profile PROFILE -- --rm ... CMD; returns stdout trimmed */
  async runClient(profile: string, cmd: string[], extra: string[] = []): Promise<RunResult> {
    return this.keyless([
      'run',
      '--profile',
      profile,
      ...extra,
      '--',
      '--rm',
      '--pull',
      'never',
      ...this.s.hostMounts,
      '-v',
      `${this.s.projectDir}:/app:ro`,
      '-w',
      '/app',
      ...this.containerEnv(),
      this.s.image,
      ...cmd,
    ]);
  }

  async compose(dir: string, project: string): Promise<RunResult> {
    const volumes = this.s.hostMounts.filter((_, i) => i % 2 === 1);
    const service = (profile: string): Record<string, unknown> => ({
      image: this.s.image,
      volumes,
      environment: { AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: this.e.containerMotoUrl },
      'x-keyless': { profile },
      command: [
        `${this.s.py}/bin/python3`,
        '-c',
        "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])",
      ],
    });
    const file = join(dir, 'compose.yml');
    await writeFile(
      file,
      JSON.stringify({ version: '2.4', services: { a: service('app'), b: service('other') } }, null, 1),
    );
    await chown(file, this.s.uid, this.s.gid);
    return this.keyless(['compose', '-f', file, '--', '-p', project, 'up', '--no-color'], 300_000);
  }

  async composeDown(dir: string, project: string): Promise<void> {
    await this.keyless(['compose', '-f', join(dir, 'compose.yml'), '--', '-p', project, 'down'], 120_000);
  }

  async channelSecret(): Promise<string> {
    return (await readFile(join(this.e.keylessHome, 'server', 'channel-secret'), 'utf8')).trim();
  }

  async status(): Promise<string> {
    const r = await this.keyless(['serve', '--status'], 30_000);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  /**
   * A request straight to the channel (unix socket or host:port) from the host: plain HTTP with no
   * preamble, a preamble with a wrong secret, or the right one. Returns the HTTP status line.
   */
  async channelRequest(how: 'none' | 'wrong' | 'right'): Promise<string> {
    const st = await this.status();
    const m = /channel (unix:(\S+)|tcp:(\S+):(\d+));/.exec(st);
    assert.ok(m, `no channel in serve --status:\n${st}`);
    const listening = (/host side listens on (.*)$/m.exec(st)?.[1] ?? '').split(', ');
    const tcp = listening.find((l) => /^[\d.]+:\d+$/.test(l)) ?? '';
    const target = m[2]
      ? { path: m[2] }
      : { host: tcp.split(':')[0] as string, port: Number(tcp.split(':')[1]) };
    const secret = await this.channelSecret();
    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const pre = how === 'none' ? '' : `KEYLESS1 ${how === 'right' ? secret : wrong} test 169.254.170.9\n`;
    return new Promise((resolve, reject) => {
      const sock = connect(target);
      let out = '';
      sock.setEncoding('utf8').on('data', (d: string) => (out += d));
      sock.on('end', () => resolve(out.split('\r\n')[0] ?? ''));
      sock.on('error', reject);
      sock.write(`${pre}GET /v1/creds/not-a-client HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
  }

  /** the address a detached container's python sees when it asks 169.254.170.2 for a URI */
  async probeFrom(container: string, uri: string): Promise<string> {
    const r = await this.s.docker([
      'exec',
      container,
      `${this.s.py}/bin/python3`,
      '-c',
      `import urllib.request,urllib.error\ntry:\n print(urllib.request.urlopen("http://169.254.170.2${uri}",timeout=10).status)\nexcept urllib.error.HTTPError as e:\n print(e.code)\nexcept Exception as e:\n print("ERR",e)`,
    ]);
    return r.stdout.trim() || r.stderr.trim();
  }

  async startSleeper(name: string, profile: string): Promise<void> {
    const r = await this.keyless([
      'run',
      '--profile',
      profile,
      '--',
      '-d',
      '--name',
      name,
      '--pull',
      'never',
      ...this.s.hostMounts,
      ...this.containerEnv(),
      this.s.image,
      '/bin/sleep',
      '600',
    ]);
    assert.equal(r.code, 0, r.stderr);
  }

  async sleeperArn(name: string): Promise<RunResult> {
    return this.s.docker(['exec', name, ...awscliV1Arn(this.s.py)], { timeoutMs: 60_000 });
  }

  /** The pid of the background server (from its pid file). */
  async serverPid(): Promise<number> {
    return Number((await readFile(join(this.e.keylessHome, 'server', 'server.pid'), 'utf8')).trim());
  }

  async endpointId(): Promise<string> {
    const r = await this.s.docker(['inspect', '--format', '{{.Id}}', 'keyless-endpoint']);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  }

  async assertInspectClean(names: string[]): Promise<void> {
    const secrets = [...this.e.secrets, await this.channelSecret()];
    for (const n of names) {
      const r = await this.s.docker(['inspect', n]);
      assert.equal(r.code, 0, r.stderr);
      for (const secret of secrets)
        assert.ok(!r.stdout.includes(secret), `docker inspect ${n} shows a secret`);
      assert.doesNotMatch(r.stdout, /AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|ASIA[A-Z0-9]{16}/);
    }
  }
}
