#!/usr/bin/env node
// A Gantry process handler: the job arrives on stdin, JSON lines go out on stdout.
let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const job = JSON.parse(input);
  const name = job.payload.name ?? "world";
  const steps = job.payload.steps ?? 3;
  for (let i = 1; i <= steps; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    console.log(JSON.stringify({ progress: (100 * i) / steps, message: `step ${i} of ${steps}` }));
  }
  console.log(JSON.stringify({ result: { greeting: `Hello, ${name}!`, attempt: job.attempt } }));
});
