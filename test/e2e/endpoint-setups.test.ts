// Issue 20, "done when" 1-5, on the setups our users have (test/helpers/setups.ts): a user in the
// docker group without sudo on the rootful engine; rootless Docker run by a test user; an engine in
// its own network and mount namespaces (the shape of Docker Desktop's VM), reached over DOCKER_HOST,
// with --host-address (KEYLESS_HOST_ADDRESS) at this machine's end of the link. keyless chooses the
// container mode by itself (auto) in each; the channel is the mounted unix socket for the first two
// and TCP for the third. Each runs the whole endpoint suite (awscli v1/v2, boto3, JS SDK v3, compose,
// stolen URI, channel secret, inspect, kill/restart, serve --stop).
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { lockDockerBridge, hostPythonPrefix } from '../helpers/docker.js';
import { endpointSuite } from '../helpers/endpoint-suite.js';
import {
  dockerGroupSetup,
  rootlessSetup,
  netnsEngineSetup,
  makeSetupTestEnv,
  motoForSetup,
  type EngineSetup,
} from '../helpers/setups.js';

const CONFIG =
  '[profile dev]\nregion = us-east-1\n\n[profile app]\nrole_arn = ROLE:runner\nsource_profile = dev\n[profile other]\nrole_arn = ROLE:other\nsource_profile = dev\n';

const cases: {
  title: string;
  make: (t: { after: (fn: () => unknown) => void }) => Promise<EngineSetup | undefined>;
  channel: 'unix' | 'tcp';
  internalNetwork: boolean;
  mainEngine: boolean;
}[] = [
  {
    title: 'a docker-group user without root on the rootful engine',
    make: dockerGroupSetup,
    channel: 'unix',
    internalNetwork: true,
    mainEngine: true,
  },
  {
    title: 'rootless Docker (dockerd-rootless.sh) run by a test user',
    make: rootlessSetup,
    channel: 'unix',
    internalNetwork: false,
    mainEngine: false,
  },
  {
    title: 'an engine in its own network and mount namespaces, over DOCKER_HOST and TCP',
    make: netnsEngineSetup,
    channel: 'tcp',
    internalNetwork: false,
    mainEngine: false,
  },
];

for (const c of cases) {
  endpointSuite(`endpoint container (auto): ${c.title}`, async (t) => {
    const setup = await c.make(t);
    if (!setup) return undefined;
    if (c.mainEngine) await lockDockerBridge(t);
    const { moto, containerUrl } = await motoForSetup(setup, t, { roles: ['runner', 'other'] });
    const config = CONFIG.replace(
      /ROLE:([\w-]+)/g,
      (_m, name: string) => moto.identity.roles[name] ?? `missing-role-${name}`,
    );
    const extra: Record<string, string> = setup.hostAddressForEngine
      ? { KEYLESS_HOST_ADDRESS: setup.hostAddressForEngine }
      : {};
    const te = await makeSetupTestEnv(setup, t, { endpoint: moto.url, awsConfig: config, extra });
    const add = await setup.run(process.execPath, [setup.keylessBin, 'add', 'dev', '--env'], {
      env: {
        ...te.vars,
        AWS_ACCESS_KEY_ID: moto.identity.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.identity.secretAccessKey,
      },
    });
    assert.equal(add.code, 0, add.stderr);
    return {
      moto,
      setup: {
        name: setup.kind,
        uid: setup.uid,
        gid: setup.gid,
        env: { ...setup.env, ...extra },
        run: (cmd, args, o) => setup.run(cmd, args, o),
        docker: (args, o) => setup.docker(args, o),
        keylessBin: setup.keylessBin,
        projectDir: dirname(dirname(dirname(setup.keylessBin))),
        hostMounts: setup.hostMounts,
        py: await hostPythonPrefix(),
        image: setup.images.hostbase,
        internalNetwork: c.internalNetwork,
        channel: c.channel,
      },
      env: {
        vars: te.vars,
        keylessHome: te.keylessHome,
        home: te.home,
        containerMotoUrl: containerUrl,
        secrets: [moto.identity.secretAccessKey, moto.identity.accessKeyId],
      },
    };
  });
}
