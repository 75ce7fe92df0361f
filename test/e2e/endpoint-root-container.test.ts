// Issue 20 on the rootful engine as root, with --endpoint container forced (KEYLESS_ENDPOINT): the
// endpoint container relays over the unix socket. The other setups (a docker-group user, rootless
// Docker, an engine in its own namespaces) run the same suite in endpoint-setups.test.ts.
import { fileURLToPath } from 'node:url';
import {
  requireDocker,
  lockDockerBridge,
  ensureHostbaseImage,
  hostMounts,
  hostPythonPrefix,
  docker,
} from '../helpers/docker.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { runProcess } from '../helpers/cli.js';
import { endpointSuite } from '../helpers/endpoint-suite.js';
import { KEYLESS_BIN } from '../helpers/cli.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

endpointSuite(
  'endpoint container, root on the rootful engine (--endpoint container, unix channel)',
  async (t) => {
    if (!(await requireDocker({ skip: () => undefined }))) return undefined;
    await lockDockerBridge(t);
    // moto on docker0's address: the host and the engine's containers both reach it
    const { moto, te } = await motoWithStoredProfile(t, {
      moto: { host: '172.17.0.1', roles: ['runner', 'other'] },
      awsConfig:
        '[profile app]\nrole_arn = ROLE:runner\nsource_profile = dev\n[profile other]\nrole_arn = ROLE:other\nsource_profile = dev\n',
    });
    return {
      moto,
      setup: {
        name: 'root',
        uid: 0,
        gid: 0,
        env: { KEYLESS_ENDPOINT: 'container' },
        run: (cmd, args, o) =>
          runProcess(cmd, args, {
            env: o.env,
            ...(o.input ? { input: o.input } : {}),
            timeoutMs: o.timeoutMs ?? 120_000,
          }),
        docker: async (args, o) => {
          const r = await docker(args, { timeoutMs: o?.timeoutMs ?? 120_000 }).then(
            (x) => ({ code: 0, signal: null, ...x }),
            (err: { code?: number; stdout?: string; stderr?: string }) => ({
              code: typeof err.code === 'number' ? err.code : 1,
              signal: null,
              stdout: err.stdout ?? '',
              stderr: err.stderr ?? String(err),
            }),
          );
          return r;
        },
        keylessBin: KEYLESS_BIN,
        projectDir: REPO,
        hostMounts: await hostMounts(),
        py: await hostPythonPrefix(),
        image: await ensureHostbaseImage(),
        internalNetwork: true,
        channel: 'unix',
      },
      env: {
        vars: te.vars,
        keylessHome: te.keylessHome,
        home: te.home,
        containerMotoUrl: moto.url,
        secrets: [moto.identity.secretAccessKey, moto.identity.accessKeyId],
      },
    };
  },
);
