// Shapes shared by sources, leases, the server and every consumer of credentials.

/** AWS credentials. Short-lived ones carry sessionToken and expiration. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** when these stop working; undefined for long-term keys */
  readonly expiration?: Date;
  /** when STS issued them (sessions), for their lifetime; undefined when unknown */
  readonly issuedAt?: Date;
  /** ARN of the identity these belong to, when known (assumed-role ARN, user ARN) */
  readonly arn?: string;
  /** the role ARN that was assumed, when known */
  readonly roleArn?: string;
}

/** A source is a function that returns fresh credentials; compose with decorators. */
export type CredentialSource = () => Promise<Credentials>;
