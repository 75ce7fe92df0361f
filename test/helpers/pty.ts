// Drives a command on a real pseudo-terminal (Python's pty module): waits for each prompt, types the
// answer, and returns everything the terminal showed, to prove hidden input is not echoed.
import { runProcess } from './cli.js';

const DRIVER = `
import json, os, pty, select, sys, time
argv = json.loads(sys.argv[1]); answers = json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
out = b""
def read_some(timeout):
    global out
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 4096)
    except OSError:
        return False
    out += data
    return bool(data)
seen = 0
for prompt, answer in answers:
    end = time.time() + 30
    while prompt.encode() not in out[seen:]:
        if time.time() > end or not read_some(0.2):
            sys.stdout.write(json.dumps({"status": -1, "output": out.decode("utf8", "replace"), "waiting": prompt}))
            sys.exit(0)
    seen = out.index(prompt.encode(), seen) + len(prompt)
    os.write(fd, (answer + "\\r").encode())
while read_some(30):
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({"status": os.waitstatus_to_exitcode(status), "output": out.decode("utf8", "replace")}))
`;

export interface PtyResult {
  status: number;
  /** all the terminal showed (stdout and stderr together, as a user sees them) */
  output: string;
  /** the prompt that never came, when status is -1 */
  waiting?: string;
}

export async function runOnPty(
  argv: string[],
  answers: [prompt: string, answer: string][],
  env: Record<string, string>,
): Promise<PtyResult> {
  const r = await runProcess('python3', ['-c', DRIVER, JSON.stringify(argv), JSON.stringify(answers)], {
    env,
  });
  if (r.code !== 0) throw new Error(`pty driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PtyResult;
}
