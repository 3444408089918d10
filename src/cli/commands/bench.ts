// Placeholder until the owning area lands; see the issue that covers `seat bench`.
import { type Command, UserError, ExitCode } from "../command";

const command: Command = {
  name: "bench",
  summary: "(not built yet)",
  usage: "",
  options: {},
  async run() {
    throw new UserError("'seat bench' is not built yet", ExitCode.failed);
  },
};
export default command;
