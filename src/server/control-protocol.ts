// The control socket's API (unix socket, 0600, under $KEYLESS_HOME/server/): how `keyless run`,
// `compose` and `swarm` register, bind and revoke credential clients. Nothing that registers clients
// listens on TCP. Issue 3 implements the server and client sides; the shapes are fixed here.

export interface RegisterClientRequest {
  /** which credentials: a profile, or a role ARN (assumed from the profile, or the default one) */
  profile?: string;
  roleArn?: string;
  /** web identity token source (formatOidcSpec form); roleArn is the role it is exchanged for */
  oidc?: string;
  /** bind now to this source address; otherwise bind later with bindClient */
  boundAddress?: string;
  /** for the audit log */
  containerId?: string;
  label?: string;
}

export interface RegisteredClient {
  /** unguessable id; appears only in the relative URI */
  id: string;
  /** e.g. /v1/creds/<id>: the value for AWS_CONTAINER_CREDENTIALS_RELATIVE_URI */
  relativeUri: string;
}

export interface ControlClient {
  register(request: RegisterClientRequest): Promise<RegisteredClient>;
  bind(id: string, address: string, containerId?: string): Promise<void>;
  revoke(id: string): Promise<void>;
  /** server status: pid, listen addresses, number of clients */
  status(): Promise<ServerStatus>;
  /** container mode: make sure the endpoint container runs and reached the channel */
  ensureEndpoint(): Promise<EndpointStatusWire>;
  /**
   * Gets (or reuses) the role's session in the server now: keyless run / compose ask before a container
   * starts, so a wrong profile is their error (not an SDK error inside the container) and the first
   * request is answered from memory. Only the expiry comes back, never a credential.
   */
  checkLease(
    key: { profile?: string; roleArn?: string; oidc?: string },
    timeoutMs?: number,
  ): Promise<{ expiration?: string }>;
  close(): void;
}

export interface EndpointStatusWire {
  mode: 'container';
  container?: string;
  image?: string;
  channel?: string;
  /** unix socket path or host:port the host side listens on */
  listening: string[];
  connected: boolean;
  lastSeenMsAgo?: number;
  refused: number;
}

export interface ServerStatus {
  pid: number;
  listen: string[];
  clients: number;
  /** 'host' (listens on the network's gateway) or 'container' (an endpoint container relays) */
  mode?: 'host' | 'container';
  /** whether the IMDS endpoint is served */
  imds?: boolean;
  network?: string;
  endpoint?: EndpointStatusWire;
}
