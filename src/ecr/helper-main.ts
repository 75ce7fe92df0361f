// Entry of docker-credential-keyless (issue 13 fills this in).
export async function helperMain(_args: string[]): Promise<number> {
  process.stdout.write('docker-credential-keyless is not implemented yet\n');
  return 1;
}
