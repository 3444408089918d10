// Child process for the resume tests: `train CONFIG_JSON` or `resume RUN_DIR`, events as JSON lines on
// stdout. A separate process per phase is what a real kill + `seat resume` looks like; it also keeps
// other tests' onnxruntime sessions out of the numbers being compared.
import { resolveConfig, train, resume } from "../../../src/seat/index";
import { formatEvent } from "../../../src/protocol/events";

async function main(): Promise<void> {
  const [mode, arg] = process.argv.slice(2);
  const onEvent = (e: Parameters<typeof formatEvent>[0]) => process.stdout.write(formatEvent(e) + "\n");
  if (mode === "train") await train(resolveConfig([{ source: "test", layer: JSON.parse(arg) }]).config, { onEvent });
  else if (mode === "resume") await resume(arg, { onEvent });
  else throw new Error(`unknown mode ${mode}`);
}
main().catch((e) => {
  process.stderr.write(String(e) + "\n");
  process.exitCode = 3;
});
